"""Accounts data: API keys and the counters behind sign-in throttling and per-key rate limits.

Staff users are Django's own `auth.User`; their role is their group (see roles.py) and their
second factor a django-otp TOTP device.
"""

from django.conf import settings
from django.db import models


class StaffRights(models.Model):
    """Holds the permissions that belong to no single table (reaching the staff pages, managing
    people). Never has rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("access_staff_home", "Reach the staff pages"),
            ("manage_users", "Create users and change their roles"),
            ("manage_api_keys", "Issue and revoke API keys"),
        ]


class ApiKey(models.Model):
    """A key for an industry member or partner hotline. Only its SHA-256 is stored: the key is
    random (256 bits), so a slow password hash would add nothing but latency on every call."""

    prefix = models.CharField(max_length=16, unique=True, help_text="Public part, shown in lists and logs.")
    secret_sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text="The account whose role the key acts with.",
    )
    scopes = models.JSONField(default=list, help_text="Permission names ('app.codename') the key may use.")
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class RateBucket(models.Model):
    """A fixed-window counter, shared by every process through the database.

    Used for sign-in attempts (key "sign-in:<user>:<addr>"), per-key and per-session API rate
    limits, and the public pages' counters (key "<purpose>:<keyed hash>", see ratelimit.hit_private).
    An F() update keeps the count exact under concurrent requests. A row is deleted once its window
    has ended (``expires_at``; ratelimit.sweep).
    """

    key = models.CharField(max_length=200, unique=True)
    window_start = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()


class WindowKey(models.Model):
    """The random key of one window of one public counter (ratelimit.hit_private).

    It exists only while its window lasts: the first count of the next window deletes it with the
    window's counters, and the clock's sweep deletes it when nothing is counted. Without it a
    counter's name cannot be tied to an address, even by whoever holds SECRET_KEY.
    """

    purpose = models.CharField(max_length=50)
    window_start = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    secret = models.BinaryField(max_length=32)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["purpose", "window_start"], name="accounts_windowkey_once")
        ]


class AccountNotice(models.Model):
    """Something done to a user's account by someone else (an administrator reset their password
    or second factor). Shown on the enrolment page the reset sends them to (a reset always removes the
    second factor), and e-mailed when the account has an address."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["created_at", "pk"]

"""Takedown data: one `TakedownCase` per hotline case assessed illegal, with its hosting traces, the
notices sent about it, its timeline and its referral; and the routing data an administrator edits
(the rules in `Policy`, the contacts in `DirectoryEntry`).

The schedule itself (when to notice, check, trace) is the core's: `TakedownCase.schedule` holds the
core `CaseState` as JSON and `next_due_at` says when the tick must look at the case again.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from openmnr.core.referral import KeyFileError
from openmnr.core.takedown.routing import DEFAULT_RULES, RoutingError, parse_rules

from .keys import parse_recipient_key


class Status(models.TextChoices):
    TRACING = "tracing", "being traced"
    NOTICES = "notices", "notices going out"
    HOST_CHANGED = "host_changed", "host changed"
    ANALYST = "analyst", "an analyst decides"
    FORWARDED = "forwarded", "forwarded to a partner"
    REMOVED = "removed", "removed, watching"
    CLOSED = "closed", "closed"


class RemovalOutcome(models.TextChoices):
    """How a confirmed removal ended (services/outcomes.py); empty: not recorded."""

    REMOVED = "removed", "removed"
    UNAVAILABLE = "unavailable", "unavailable (the host answers no more)"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    PORTUGUESE = "pt", "Português"


FINISHED = (Status.REMOVED, Status.CLOSED)
# The dashboard's filters (TakedownQuerySet.shown): key -> label.
FILTERS = {
    "open": "Open",
    "analyst": "Waiting for an analyst",
    "removed": "Removed, watching",
    "closed": "Closed",
    "all": "All",
}


class TakedownQuerySet(models.QuerySet):
    def unfinished(self):
        return self.exclude(status__in=FINISHED)

    def waiting_for_analyst(self):
        """Unfinished cases that routing (or an escalation) put in front of an analyst."""
        return self.unfinished().exclude(analyst_note="")

    def shown(self, show: str):
        """The cases one of the dashboard's FILTERS lists (an unknown key lists the open ones)."""
        if show == "analyst":
            return self.waiting_for_analyst()
        if show in (Status.REMOVED, Status.CLOSED):
            return self.filter(status=show)
        if show == "all":
            return self.all()
        return self.unfinished()


class TakedownCase(models.Model):
    """The takedown side of one hotline case; its primary key is the hotline case's."""

    case = models.OneToOneField(
        "hotline.Case", on_delete=models.PROTECT, primary_key=True, related_name="takedown"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TRACING)
    known_material = models.BooleanField(default=False)
    schedule = models.JSONField(help_text="The core schedule's CaseState.")
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A tick that takes a case holds it until lease_until, so two ticks never work the same case.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    actions = models.JSONField(default=list, blank=True, help_text="What routing decided, as shown.")
    analyst_note = models.CharField(max_length=500, blank=True, help_text="Why an analyst must look.")
    referral_wanted = models.BooleanField(default=False)
    forward_pending = models.BooleanField(default=False)
    # The measures (docs/takedown.md, Statistics).
    opened_at = models.DateTimeField(help_text="When takedown began: the assessment.")
    first_notice_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True, help_text="First miss of the confirming run.")
    removal_outcome = models.CharField(max_length=20, choices=RemovalOutcome.choices, blank=True)
    moved_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time the content was found elsewhere."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    hosting_country = models.CharField(max_length=2, blank=True)
    asn = models.PositiveBigIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=200, blank=True, help_text="Network owner or CDN.")

    objects = TakedownQuerySet.as_manager()

    class Meta:
        default_permissions = ()
        permissions = [
            ("view_takedown", "See takedown cases: traces, notices, checks and their timeline"),
            ("act_takedown", "Decide where a case's notices go when routing leaves it to an analyst"),
            ("send_referral", "Send a case's referral package to law enforcement"),
            ("receive_referrals", "List and download the referral packages addressed to one's unit"),
            ("view_removal_stats", "Read the removal-time statistics"),
        ]

    def __str__(self):
        return f"takedown of case {self.pk}"

    @property
    def is_finished(self) -> bool:
        """Removed (and being watched) or closed: no notice goes out any more, nobody re-routes."""
        return self.status in FINISHED

    @property
    def case_is_open(self) -> bool:
        """The hotline case still wants takedown (assessed or actioned, not closed elsewhere)."""
        return self.case.awaits_action


class Trace(models.Model):
    """One hosting trace (core HostingTrace.to_dict()), and whether it showed a new host."""

    takedown = models.ForeignKey(TakedownCase, on_delete=models.CASCADE, related_name="traces")
    traced_at = models.DateTimeField()
    data = models.JSONField()
    host_changed = models.BooleanField(default=False)
    changed_fields = models.JSONField(default=list, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["-traced_at", "-pk"]


class Channel(models.TextChoices):
    EMAIL = "email", "e-mail"
    WEBHOOK = "webhook", "signed webhook"


class NoticeKind(models.TextChoices):
    HOST = "notice_host", "notice to the host"
    CDN = "notice_cdn", "notice to the CDN"
    REGISTRAR = "notice_registrar", "notice to the registrar"
    ESCALATION = "escalation", "escalation"
    FORWARD = "forward_partner", "forward to a partner hotline"
    REFERRAL = "referral", "referral available"


class Notice(models.Model):
    """One message to one recipient, as sent: never media, never hashes."""

    takedown = models.ForeignKey(TakedownCase, on_delete=models.CASCADE, related_name="notices")
    reference = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    number = models.PositiveSmallIntegerField(
        default=1, help_text="1 for the first notice, 2 for the first repeat..."
    )
    recipient = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.TextField(help_text="E-mail addresses (one per line) or the webhook URL.")
    language = models.CharField(max_length=5, choices=Language.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    sent_at = models.DateTimeField()
    delivered = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    ack_message = models.TextField(blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["sent_at", "pk"]

    def __str__(self):
        return self.reference


class EventKind(models.TextChoices):
    OPENED = "opened", "takedown opened"
    TRACED = "traced", "traced"
    HOST_CHANGED = "host_changed", "moved: host changed"
    ROUTED = "routed", "routed"
    NOTICE = "notice", "notice sent"
    NOTICE_FAILED = "notice_failed", "notice not delivered"
    FORWARDED = "forwarded", "forwarded"
    ESCALATED = "escalated", "escalated"
    ACKNOWLEDGED = "acknowledged", "acknowledged"
    CHECK = "check", "availability check"
    REMOVED = "removed", "removal confirmed"
    REOPENED = "reopened", "content back online"
    DECIDED = "decided", "analyst decided"
    REFERRAL = "referral", "referral sent"
    CLOSED = "closed", "closed"


class Event(models.Model):
    """The case's timeline, as its page shows it (the audit log holds the sensitive actions too)."""

    takedown = models.ForeignKey(TakedownCase, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    text = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["at", "pk"]


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class EntryKind(models.TextChoices):
    LAW_ENFORCEMENT = "law_enforcement", "national law-enforcement contact"
    PARTNER = "partner", "partner hotline"
    FALLBACK = "international_fallback", "international fallback"
    PROVIDER = "provider", "hosting provider or CDN (overrides its RDAP contacts)"


class DirectoryEntry(models.Model):
    """A contact routing hands out. A provider entry, matched by AS number or CDN name, replaces the
    abuse contacts that RDAP gives for that network (many large hosts prefer their own address or
    an API). An entry with an API URL receives signed webhooks instead of e-mail."""

    kind = models.CharField(max_length=30, choices=EntryKind.choices)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2; partners need one.")
    asn = models.PositiveBigIntegerField(null=True, blank=True, help_text="Providers: the AS number.")
    cdn = models.CharField(max_length=100, blank=True, help_text="Providers: the CDN name in cdn.json.")
    emails = models.TextField(blank=True, help_text="One e-mail address per line.")
    api_url = models.URLField(blank=True, help_text="Signed webhooks go here instead of e-mail.")
    webhook_secret = models.CharField(
        max_length=100, default=new_webhook_secret, help_text="Give it to the recipient to check signatures."
    )
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.ENGLISH)
    recipient_key = models.TextField(
        blank=True, help_text="Law enforcement: X25519 public key (PEM) that evidence is encrypted to."
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Law enforcement: the accounts that may download referrals addressed here.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "directory entry"
        verbose_name_plural = "directory entries"
        ordering = ["kind", "country", "name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def email_list(self) -> list[str]:
        return [line.strip() for line in self.emails.splitlines() if line.strip()]

    def clean(self):
        from django.core.validators import validate_email

        for email in self.email_list:
            try:
                validate_email(email)
            except ValidationError:
                raise ValidationError({"emails": f"{email!r} is not an e-mail address"}) from None
        if not self.email_list and not self.api_url:
            raise ValidationError("give at least one e-mail address or an API URL")
        if self.api_url and not _webhook_url_allowed(self.api_url):
            raise ValidationError({"api_url": "webhooks go to https:// addresses only"})
        self.country = self.country.strip().upper()
        if self.country and not (len(self.country) == 2 and self.country.isalpha()):
            raise ValidationError({"country": "use the two-letter ISO code"})
        if self.kind == EntryKind.PARTNER and not self.country:
            raise ValidationError({"country": "a partner hotline needs the country it covers"})
        if self.kind == EntryKind.PROVIDER and self.asn is None and not self.cdn:
            raise ValidationError("a provider entry needs an AS number or a CDN name")
        if self.recipient_key:
            try:
                parse_recipient_key(self.recipient_key)
            except KeyFileError as exc:
                raise ValidationError({"recipient_key": str(exc)}) from None


def _webhook_url_allowed(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in settings.TAKEDOWN_WEBHOOK_ALLOW_HTTP
    )


def default_rules() -> list[dict]:
    return [dict(rule) for rule in DEFAULT_RULES]


class Policy(models.Model):
    """The routing rules and the legal text of notices; one row, edited by an administrator."""

    rules = models.JSONField(default=default_rules, help_text="Routing rules; see docs/takedown.md.")
    legal_text_en = models.TextField(
        blank=True, help_text="The legal basis of a notice, in English, as it appears in every notice."
    )
    legal_text_pt = models.TextField(blank=True, help_text="The same in Portuguese.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "routing policy"
        verbose_name_plural = "routing policy"

    def __str__(self):
        return "routing rules and legal text"

    def clean(self):
        try:
            parse_rules(self.rules)
        except RoutingError as exc:
            raise ValidationError({"rules": str(exc)}) from None

    @classmethod
    def current(cls) -> "Policy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class Referral(models.Model):
    """A referral package addressed to a law-enforcement entry: the one a senior analyst sends for
    a takedown case, or (``held``) one per law-enforcement entry, sent by the platform when a case
    is held for the police, before any takedown exists (hold_referrals.py). ``case`` is the hotline
    case either way; ``takedown`` only for the first kind."""

    takedown = models.OneToOneField(
        TakedownCase, on_delete=models.PROTECT, related_name="referral", null=True, blank=True
    )
    case = models.ForeignKey("hotline.Case", on_delete=models.PROTECT, related_name="+", null=True)
    held = models.BooleanField(default=False, help_text="Sent because the case was held for the police.")
    told_at = models.DateTimeField(null=True, blank=True, help_text="A held case's: when its entry was told.")
    recipient = models.ForeignKey(DirectoryEntry, on_delete=models.PROTECT, related_name="referrals")
    file_name = models.CharField(max_length=100, unique=True)
    sha256 = models.CharField(max_length=64, help_text="Of the package file, to check a download.")
    size = models.PositiveBigIntegerField()
    encrypted = models.BooleanField(default=False)
    evidence_items = models.PositiveIntegerField(default=0)
    signals = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        default_permissions = ()
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "recipient"],
                condition=Q(held=True),
                name="takedown_one_hold_referral_per_unit",
            )
        ]

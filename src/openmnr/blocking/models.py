"""Blocking data: the URL list's entries and versions, the keyword list with its confirmations, and
the deterrence page's aggregate counts.

An entry is never deleted: it carries the version that added it and the version that removed it,
so any published version can be rebuilt (a diff is the difference of two rebuilt states) and the
list's history answers an appeal ("was this URL listed on 3 May, and why?").
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ListVersion(models.Model):
    """One published state of the URL list."""

    version = models.PositiveIntegerField(primary_key=True)
    published_at = models.DateTimeField()
    count = models.PositiveIntegerField(help_text="Entries (expressions) listed in this version.")
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the sorted prefixes.")

    class Meta:
        default_permissions = ()
        permissions = [
            ("view_blocking", "See the blocking list's versions, size and licensees"),
            ("publish_list", "Publish a new version of the URL list now"),
            ("download_list", "Download the URL list and confirm prefix hits (licensees' API keys)"),
            ("download_keywords", "Download the signed keyword list (licensees' API keys)"),
            ("view_deterrence_counts", "Read the deterrence page's daily counts"),
            (
                "manage_partner_lists",
                "Register, edit (source, key, licence), import and remove partners' URL lists",
            ),
            ("fetch_partner_lists", "See partners' URL lists and fetch one now"),
            ("download_partner_export", "Download our cases' URL list as a signed export (partner hotlines)"),
        ]

    def __str__(self):
        return f"URL list version {self.version}"


class Source(models.TextChoices):
    CASE = "case", "hotline case"
    PARTNER = "partner", "partner's list"


class PartnerList(models.Model):
    """A partner's URL list: a signed export from a partner OpenMNR, or a plain file of URLs/hashes.

    ``redistribute`` is the licence: only then do its entries join the list we publish (with the
    partner as their source); otherwise they are kept for local use (``partners.known_locally``)."""

    class Kind(models.TextChoices):
        OPENMNR = "openmnr", "signed export of a partner OpenMNR"
        FILE = "file", "plain list of URLs or SHA-256 hashes"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source_url = models.URLField(blank=True, help_text="Where the partner serves its signed export.")
    public_key_pem = models.TextField(blank=True, help_text="The partner's Ed25519 public key (PEM).")
    api_key_variable = models.CharField(
        max_length=100,
        blank=True,
        help_text="The environment variable holding our API key at the partner (never the key itself).",
    )
    redistribute = models.BooleanField(default=False, help_text="The licence lets us publish its entries.")
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=0, help_text="The partner's last imported version.")
    imported_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Removed: its entries left the list; the row stays for the history."
    )
    # The schedule (services/partner_schedule.py): when the clock fetches next, the earliest the
    # partner lets us ask again (its minimum wait, a 429's Retry-After), and how the last try went.
    min_wait_seconds = models.PositiveIntegerField(
        default=0, help_text="The partner's minimum wait between two fetches, from its terms."
    )
    next_fetch_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    fetching_until = models.DateTimeField(null=True, blank=True, help_text="A fetch under way (a lease).")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    fetch_queued_at = models.DateTimeField(
        null=True, blank=True, help_text='A person\'s "fetch now", queued for the worker and not run yet.'
    )
    last_error = models.TextField(blank=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"partner list {self.name}"


class PartnerEntry(models.Model):
    """One entry of a partner's list as last imported (replaced wholesale by each import)."""

    partner = models.ForeignKey(PartnerList, on_delete=models.CASCADE, related_name="entries")
    expression = models.TextField(blank=True, help_text="Empty for a hash-only line of a file.")
    full_hash = models.CharField(max_length=64)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["partner", "full_hash"], name="blocking_one_partner_entry")
        ]

    def __str__(self):
        return f"partner entry {self.pk}"


class ListEntry(models.Model):
    """One expression (host suffix / path prefix, Safe Browsing form) on the list for a while."""

    expression = models.TextField()
    full_hash = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the expression, hex.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CASE)
    case_id = models.BigIntegerField(null=True, blank=True, help_text="The hotline case it was made from.")
    partner = models.ForeignKey(
        PartnerList,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Its source list.",
    )
    added_version = models.PositiveIntegerField()
    removed_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["full_hash"],
                condition=Q(removed_version__isnull=True),
                name="blocking_one_live_entry",
            )
        ]

    def __str__(self):
        return f"list entry {self.pk}"


class Keyword(models.Model):
    """A search or chat term that signals interest in CSAM, for moderation partners."""

    class Status(models.TextChoices):
        PENDING = "pending", "awaiting confirmation"
        ACTIVE = "active", "active"
        DISABLED = "disabled", "disabled"

    class Category(models.TextChoices):
        SEEKING = "seeking", "seeking material"
        CODEWORD = "codeword", "code word or series name"
        GROOMING = "grooming", "grooming"
        TRADING = "trading", "trading or sharing"

    term = models.CharField(max_length=200)
    language = models.CharField(max_length=16, help_text="BCP 47 language tag, such as en or pt-BR.")
    category = models.CharField(max_length=16, choices=Category.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disable_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        default_permissions = ()
        permissions = [
            ("view_keywords", "See the keyword list and its queue"),
            ("curate_keywords", "Propose, confirm (four eyes) and disable keywords"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "language"],
                condition=~Q(status="disabled"),
                name="blocking_one_keyword_per_language",
            )
        ]

    def __str__(self):
        return f"keyword {self.pk}"


class KeywordConfirmation(models.Model):
    keyword = models.ForeignKey(Keyword, on_delete=models.CASCADE, related_name="confirmations")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["keyword", "confirmed_by"], name="blocking_confirm_once")
        ]


class DeterrenceCount(models.Model):
    """How often the deterrence page was shown, per day and list version: nothing about who or what."""

    day = models.DateField()
    list_version = models.PositiveIntegerField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0)
    help_clicks = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["day", "list_version"], name="blocking_one_count_per_day"),
            models.UniqueConstraint(
                fields=["day"], condition=Q(list_version__isnull=True), name="blocking_one_unversioned_count"
            ),
        ]


class LicenseeDownload(models.Model):
    """When a key last received a snapshot or diff (``last_at``), and our export for partner
    hotlines (``last_export_at``): what each minimum wait is counted from. Two clocks, so a key
    that holds both roles is paced on each document as either role alone would be.

    One row per key, overwritten: the audit log keeps the history, this row only the last time."""

    api_key = models.OneToOneField("accounts.ApiKey", on_delete=models.CASCADE, related_name="+")
    last_at = models.DateTimeField(null=True)
    last_export_at = models.DateTimeField(null=True)
    last_kind = models.CharField(max_length=10)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"last list download of key {self.api_key_id}"

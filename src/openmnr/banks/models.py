"""Hash banks, their entries, the four-eyes confirmations and the index change log.

A bank is a named list of hashes with one purpose (confirmed CSAM, a partner's list, known
non-illegal material). Its entries hold one signal value each. In a bank whose purpose needs
confirmation, an entry (or a whole import) becomes active only once enough different senior
analysts have confirmed it; until then no matcher sees it.

Every change that matters to matchers (an entry activated or disabled, an import activated) is
appended to ``IndexChange`` with a gapless sequence number, which every web and worker process
follows to keep its in-memory index current (see matcher.py). Entries are never deleted: a
disabled entry stays for the record.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Count, Q

from openmnr.core import signals
from openmnr.core.signals import ContentType


class Purpose(models.TextChoices):
    CONFIRMED_CSAM = "confirmed_csam", "Confirmed CSAM"
    PARTNER_LIST = "partner_list", "Partner list"
    KNOWN_NON_ILLEGAL = "known_non_illegal", "Known non-illegal"
    # Hashes a survivor computed on their own device (see selfreport.py): matched at once, but a
    # platform reviews before removing, since nobody here has seen the material.
    SURVIVOR_REPORTED = "survivor_reported", "Self-reported by survivors"


#: Purposes whose entries need the four-eyes confirmation before they are matched. Entries of any
#: bank shared with industry or partners need one confirmation too (sharing.py).
NEEDS_CONFIRMATION = {Purpose.CONFIRMED_CSAM}
#: When one item matches banks of several purposes, the answer names the first in this order.
ACTION_ORDER = [
    Purpose.CONFIRMED_CSAM,
    Purpose.PARTNER_LIST,
    Purpose.SURVIVOR_REPORTED,
    Purpose.KNOWN_NON_ILLEGAL,
]


class Classification(models.TextChoices):
    """The hotline assessment vocabulary (INHOPE)."""

    BASELINE = "baseline", "Baseline (illegal in every country)"
    NATIONALLY_ILLEGAL = "nationally_illegal", "Nationally illegal"
    NOT_ILLEGAL = "not_illegal", "Not illegal"


#: What a bank holds: signals of pictures and videos (a URL list is another kind of list).
BANK_CONTENT = (ContentType.PHOTO, ContentType.VIDEO)


def signal_types() -> dict[str, type[signals.SignalType]]:
    """The signal types a bank holds: every registered type of pictures or videos, in order."""
    return {cls.name: cls for cls in signals.for_content(*BANK_CONTENT)}


def signal_choices() -> list[tuple[str, str]]:
    """The choices of ``BankEntry.signal_type``. A callable, so that migrations record this
    function rather than the list: a new signal type needs no migration."""
    return [(name, cls.label) for name, cls in signal_types().items()]


class BankQuerySet(models.QuerySet):
    def with_counts(self):
        """Each bank with ``active`` and ``pending``: how many entries it has in either state."""
        return self.annotate(
            active=Count("entries", filter=Q(entries__status=BankEntry.Status.ACTIVE)),
            pending=Count("entries", filter=Q(entries__status=BankEntry.Status.PENDING)),
        )


class Bank(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    enabled = models.BooleanField(default=True, help_text="A disabled bank is never consulted.")
    provenance = models.TextField(blank=True, help_text="Where the entries come from and under what terms.")
    match_roles = models.JSONField(
        default=list,
        blank=True,
        help_text="Role names whose members (and their API keys) may match against this bank.",
    )
    match_accounts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Accounts (an industry member, a partner hotline) whose keys may match against this bank "
        "whatever their role.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = BankQuerySet.as_manager()

    class Meta:
        default_permissions = ()
        permissions = [
            ("view_banks", "See banks and their entries (values masked)"),
            ("propose_entry", "Propose hashes for a bank"),
            ("confirm_entry", "Confirm proposed hashes and imports (four eyes)"),
            ("disable_entry", "Disable bank entries"),
            ("import_entries", "Import hash lists into a bank"),
            ("export_bank", "Export a bank's hash list (encrypted)"),
            ("manage_banks", "Create banks and set who may match against them"),
            ("view_index_status", "See the match index status of every process"),
            ("match_hashes", "Match content or signals against the banks (API)"),
            ("hash_media", "Hash uploaded content without storing it (API)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=[p.value for p in Purpose]), name="banks_bank_purpose_known"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def needs_confirmation(self) -> bool:
        return self.confirmations_needed > 0

    @property
    def confirmations_needed(self) -> int:
        """Senior analysts, other than who added an entry or import, who must confirm it."""
        from .sharing import confirmations_needed

        return confirmations_needed(self)


class ImportBatch(models.Model):
    """One imported file. In a bank that needs confirmation its entries wait for the batch to be
    confirmed as a whole (see services.confirm_import)."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="imports")
    format = models.CharField(max_length=16)
    file_name = models.CharField(max_length=200, blank=True)
    source_ref = models.CharField(max_length=200, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)
    read = models.PositiveIntegerField(default=0, help_text="Records in the file.")
    added = models.PositiveIntegerField(default=0, help_text="New entries (duplicates are skipped).")
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"import {self.pk} into {self.bank}"


class BankEntry(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting confirmation"
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    # No foreign key here has an index of its own (the composite indexes below cover the
    # queries), and ``batch`` and ``proposed_by`` have no database constraint: the database checks
    # a constraint row by row at commit, which for those two adds half again to a million-row
    # import. Django's on_delete=PROTECT still guards them, and only the service sets them.
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="entries", db_index=False)
    signal_type = models.CharField(max_length=16, choices=signal_choices)
    value = models.CharField(max_length=64, help_text="Lower-case hex. Sensitive: never shown in full.")
    # A value longer than a key (a vPDQ entry is one video: its frame list) is kept whole in
    # ``frames``, in canonical form, which is what matching compares, and ``value`` is its identity
    # (the SHA-256 of that text), which uniqueness and masking use. ``frames`` is empty for other
    # signal types. db_default too, so that raw inserts naming no frames (the benchmarks) still work.
    frames = models.TextField(blank=True, default="", db_default="")
    quality = models.PositiveSmallIntegerField(null=True, blank=True)
    classification = models.CharField(max_length=32, choices=Classification.choices)
    category = models.CharField(max_length=64, blank=True)
    # What a hotline item matching this entry takes over (vocabulary codes); empty, or None for the
    # flags: not recorded, and such a match leaves the item for an analyst to complete.
    age_group = models.CharField(max_length=32, blank=True, default="", db_default="")
    gender = models.CharField(max_length=32, blank=True, default="", db_default="")
    flags = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    source_ref = models.CharField(max_length=200, blank=True, help_text="Report, case or list it came from.")
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    disable_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["bank", "signal_type", "value"], name="banks_entry_unique_value"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active", "disabled"]), name="banks_entry_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["bank", "status"], name="banks_entry_bank_status"),
            models.Index(fields=["batch", "status"], name="banks_entry_batch_status"),
        ]

    def __str__(self):
        return f"{self.signal_type} entry {self.pk} of {self.bank_id}"

    @property
    def masked_value(self) -> str:
        return mask(self.value)


class EntryKeypoints(models.Model):
    """The local features of a picture entry (``openmnr.core.robust.features``): its strongest ORB
    keypoints, in ``Features.to_bytes`` form (36 bytes a keypoint plus 3: 2,307 bytes for 64).

    Kept only when the picture itself was at hand when the entry was added (``propose_picture``
    with ``OPENMNR_MATCH_FEATURES`` on): a hash-only entry (typed in, imported from a list) cannot
    have them. A side table rather than a column of ``BankEntry``, so that the entry rows that
    imports, snapshots and the index read stay as narrow as they were, and a ten-million-entry
    list pays nothing. Bank content like the hash: never shown, exported or returned by the API.
    """

    entry = models.OneToOneField(
        BankEntry, on_delete=models.PROTECT, primary_key=True, related_name="keypoints"
    )
    data = models.BinaryField()

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"keypoints of entry {self.entry_id}"


def mask(value: str) -> str:
    """The first 8 hex digits and an ellipsis: enough to tell entries apart, too little to invert."""
    return value[:8] + "…"


class Confirmation(models.Model):
    """One senior analyst's confirmation of one entry, or of one whole import (exactly one is set)."""

    entry = models.ForeignKey(
        BankEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="confirmations"
    )
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="confirmations"
    )
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=Q(entry__isnull=False, batch__isnull=True)
                | Q(entry__isnull=True, batch__isnull=False),
                name="banks_confirmation_one_target",
            ),
            models.UniqueConstraint(
                fields=["entry", "confirmed_by"], name="banks_confirmation_once_per_entry"
            ),
            models.UniqueConstraint(
                fields=["batch", "confirmed_by"], name="banks_confirmation_once_per_batch"
            ),
        ]


class IndexChange(models.Model):
    """One change that matchers apply, in ``seq`` order (see changes.py for how ``seq`` and
    ``token`` are given out and why)."""

    class Op(models.TextChoices):
        ADD = "add", "Entry activated"
        DISABLE = "disable", "Entry disabled"
        ADD_BATCH = "add_batch", "Import activated"

    seq = models.BigIntegerField(primary_key=True)
    token = models.CharField(max_length=16, help_text="Random; tells this change from a rolled-back one.")
    op = models.CharField(max_length=16, choices=Op.choices)
    entry_id = models.BigIntegerField(null=True, blank=True)
    batch_id = models.BigIntegerField(null=True, blank=True)
    signal_type = models.CharField(max_length=16, blank=True)
    value = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()


def new_epoch() -> str:
    return secrets.token_hex(8)


class IndexHead(models.Model):
    """The last sequence number given out; its one row (pk=1) is the writers' lock.

    ``epoch`` is drawn when the row is created. Snapshots and matchers remember it, so an index
    built from another database (a restored backup, a test database, a fresh install sharing the
    same folder) is never taken for this one.
    """

    seq = models.BigIntegerField(default=0)
    token = models.CharField(max_length=16, blank=True, help_text="The token of change ``seq``.")
    epoch = models.CharField(max_length=16, default=new_epoch)

    class Meta:
        default_permissions = ()


class MatcherHeartbeat(models.Model):
    """What each process (web or worker) has applied, for the index status page."""

    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    applied_seq = models.BigIntegerField(default=0)
    entries = models.PositiveBigIntegerField(default=0)
    loaded_from = models.CharField(max_length=32, blank=True, help_text="snapshot or database")
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["host", "pid"], name="banks_heartbeat_one_per_process")
        ]

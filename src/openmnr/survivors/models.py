"""What survivors sent from the Take it down page, and what came of it.

A ``Case`` is one person's request under one code. The code itself is never stored: only its
SHA-256, so that a copy of the database does not let anyone withdraw a case or read its status
(the code carries 95 random bits, so its digest cannot be searched). A case holds no name, no
address, no picture: each ``Item`` is one picture or video as hashes only (``Signal`` rows), and
the bank entries that platforms match are linked by id and carry no personal data at all. The
optional contact address lives apart, in ``Contact``, encrypted (see contact.py), and is deleted
when the case leaves "open".

``Outcome`` rows are what platforms reported after matching one of the items (removed, or reviewed
and kept); the person sees their counts, never which platform or where. ``CaseTransition`` is a
case's history, ``Tally`` the hourly counts that show a flood of submissions.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .states import CaseState, HoldReason, ItemState


def code_digest(code: str) -> str:
    """The stored form of a normalised case code."""
    return hashlib.sha256(f"openmnr survivors case\0{code}".encode()).hexdigest()


class Case(models.Model):
    code_digest = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=16, choices=CaseState.choices, default=CaseState.OPEN)
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    state_changed_at = models.DateTimeField(default=timezone.now)
    is_demo = models.BooleanField(default=False)

    class Meta:
        default_permissions = ()
        permissions = [
            ("review_items", "Release or reject pictures held for review; propose confirmed entries"),
            ("view_activity", "See the Take it down page's activity and floods"),
            ("close_case", "Close a survivor's case"),
            ("report_outcome", "Report what was done with content that matched a self-reported hash (API)"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in CaseState]), name="survivors_case_state_known"
            )
        ]

    def __str__(self):
        return f"survivor case {self.pk}"


class CaseTransition(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(max_length=16)
    to_state = models.CharField(max_length=16)
    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=150, help_text='"the person" for the survivor; a username for staff.')
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["at", "pk"]


class Item(models.Model):
    class Kind(models.TextChoices):
        PHOTO = "photo", _("picture")
        VIDEO = "video", _("video")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=ItemState.choices)
    hold_reason = models.CharField(max_length=32, choices=HoldReason.choices, blank=True)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    pdq_refused = models.BooleanField(
        default=False, help_text="The picture's PDQ was too flat to match on; only exact copies are found."
    )
    added_at = models.DateTimeField(default=timezone.now, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The analyst who proposed its hashes for a bank of confirmed material.",
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    evidence = models.CharField(
        max_length=300, blank=True, help_text="Where the analyst saw matching content."
    )

    class Meta:
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in ItemState]), name="survivors_item_state_known"
            )
        ]
        indexes = [models.Index(fields=["state", "added_at"], name="survivors_item_state_added")]

    def __str__(self):
        return f"survivor item {self.pk}"


class Signal(models.Model):
    """One hash of an item. ``value`` is kept while the case is open (to release a held item, or
    propose it for confirmation) and erased when it closes; ``entry_id`` is the bank entry once
    the item is active (an id in the banks app; entries are shared when two cases send the same
    picture)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="signals")
    signal_type = models.CharField(max_length=16)
    value = models.CharField(max_length=64, blank=True)
    entry_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["item", "signal_type"], name="survivors_one_signal_per_type")
        ]


class Outcome(models.Model):
    class Result(models.TextChoices):
        REMOVED = "removed", _("removed")
        KEPT = "kept", _("reviewed and kept")

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="outcomes")
    result = models.CharField(max_length=8, choices=Result.choices)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(
        max_length=200, blank=True, help_text="The platform's own reference for the upload; one report each."
    )
    reported_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["item", "reported_by", "reference"],
                condition=~Q(reference=""),
                name="survivors_one_outcome_per_reference",
            )
        ]


class Contact(models.Model):
    """The optional address for updates, encrypted (contact.py), deleted when the case closes."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="contact")
    sealed = models.TextField(help_text="The address, encrypted (Fernet); never shown in full.")
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()


class Tally(models.Model):
    """Counts per hour, for the activity page (a flood shows here first)."""

    class Kind(models.TextChoices):
        CASES = "cases", "cases opened"
        ITEMS = "items", "pictures and videos received"
        HELD = "held", "held for review"
        RATE_LIMITED = "rate_limited", "refused: too many from one address or case"
        LOW_QUALITY = "low_quality", "PDQ refused: too little detail"

    hour = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["hour", "kind"], name="survivors_one_tally_per_hour")]

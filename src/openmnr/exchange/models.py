"""Exchange data: what came in from partner hotlines and what goes out to them.

- `NetworkItem`: one ICCAM content item tied to one of our hotline cases, imported (a partner's
  report, with what the partner said: hotline, memo, site type, commerciality, last assessment) or
  exported (a case of ours created in ICCAM). Unique per ICCAM content id: a re-run imports nothing
  twice.
- `OutboxRow`: one thing to send (an ICCAM report, assessment, action, move; a federation message),
  with a dedupe key that makes it exist once, and its state (see `RowState`).
- `SyncState`: one row per channel: the import cursor, the lease that keeps two cycles from running
  at once, and the count of cycles failed in a row that alerts administrators.
- `ItemError`: an ICCAM item that could not be imported, with ICCAM's id and why, until it can.
- `Partner`, `FederatedCase`, `InboundMessage`: OpenMNR federation: the partners an administrator
  configured, the cases forwarded either way, and the ids of the messages applied (replays are
  refused).
- `NetworkEvent`: what a partner did about a case of ours, as it happened: our case's timeline.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Channel(models.TextChoices):
    ICCAM = "iccam", "ICCAM"
    FEDERATION = "federation", "OpenMNR federation"


class Origin(models.TextChoices):
    IMPORTED = "imported", "reported by a partner"
    EXPORTED = "exported", "reported by us"


class NetworkItem(models.Model):
    """One ICCAM content item and the hotline case it belongs to."""

    case = models.ForeignKey("hotline.Case", on_delete=models.PROTECT, related_name="network_items")
    origin = models.CharField(max_length=10, choices=Origin.choices)
    report_id = models.PositiveBigIntegerField(db_index=True)
    content_id = models.PositiveBigIntegerField(unique=True)
    url = models.TextField()
    is_source_url = models.BooleanField(default=False)
    reporting_hotline = models.CharField(max_length=100, blank=True)
    memo = models.TextField(blank=True)
    site_type = models.CharField(max_length=40, blank=True, help_text="Vocabulary code.")
    commerciality = models.CharField(max_length=40, blank=True)
    payment_methods = models.JSONField(default=list, blank=True)
    hosting_country = models.CharField(max_length=2, blank=True)
    assigned_country = models.CharField(max_length=2, blank=True)
    # The partner's last assessment, in vocabulary codes; empty when the partner sent none.
    partner_assessment = models.CharField(max_length=40, blank=True)
    partner_age_group = models.CharField(max_length=40, blank=True)
    partner_gender = models.CharField(max_length=40, blank=True)
    partner_flags = models.JSONField(default=list, blank=True)
    partner_actioned = models.BooleanField(default=False, help_text="ICCAM listed actions on import.")
    reference = models.CharField(max_length=100, blank=True, help_text="Our hotline reference in ICCAM.")
    ack_error = models.TextField(blank=True, help_text="Why ICCAM refused our hotline reference, if it did.")
    assessment_queued = models.BooleanField(default=False, help_text="Our assessment is in the outbox.")
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="Exported items: a final action was seen in ICCAM."
    )

    class Meta:
        default_permissions = ()
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("view_exchange", "See what is exchanged with partner hotlines (ICCAM, federation)"),
            ("manage_exchange", "Retry or dismiss exchange messages; see ICCAM's field errors"),
        ]

    def __str__(self):
        return f"ICCAM content {self.content_id}"

    @property
    def assessed_by_partner(self) -> bool:
        return self.origin == Origin.IMPORTED and bool(self.partner_assessment)


class RowState(models.TextChoices):
    PENDING = "pending", "waiting to be sent"
    SENT = "sent", "sent"
    FAILED = "failed", "refused: an administrator decides"
    UNCERTAIN = "uncertain", "sent, answer lost: an administrator checks"
    SKIPPED = "skipped", "not sent: the partner's rules say no"
    DISMISSED = "dismissed", "dismissed by an administrator"


OPEN_ROW_STATES = (RowState.PENDING,)


class OutboxRow(models.Model):
    """One message to send, once. `dedupe_key` names its effect (say ``iccam:action:411:removed``):
    a second request for the same effect finds the row and adds nothing."""

    channel = models.CharField(max_length=12, choices=Channel.choices)
    kind = models.CharField(max_length=40)
    dedupe_key = models.CharField(max_length=200, unique=True)
    case = models.ForeignKey(
        "hotline.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="outbox_rows"
    )
    partner = models.ForeignKey("Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=RowState.choices, default=RowState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    not_before = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    field_errors = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=16, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["channel", "state", "not_before"], name="exchange_outbox_due")]

    def __str__(self):
        return f"{self.get_channel_display()} {self.kind} ({self.get_state_display()})"


class SyncState(models.Model):
    """The ICCAM cycle's memory (one row per channel)."""

    channel = models.CharField(max_length=12, choices=Channel.choices, unique=True)
    cursor = models.DateTimeField(
        null=True, blank=True, help_text="countryAssignmentStartDate of the next import."
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_cycle_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_summary = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()


class ItemError(models.Model):
    """An ICCAM item (or report) that could not be imported, and why; gone once it imports."""

    content_id = models.PositiveBigIntegerField(unique=True)
    report_id = models.PositiveBigIntegerField()
    error = models.TextField()
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)
    times = models.PositiveIntegerField(default=1)

    class Meta:
        default_permissions = ()
        ordering = ["-last_at"]


class Partner(models.Model):
    """Another OpenMNR instance: where it is, and the key its messages are signed with."""

    name = models.CharField(max_length=200, unique=True)
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2: cases hosted there go to it."
    )
    base_url = models.URLField(help_text="The partner's address, e.g. https://hotline.example/")
    public_key = models.TextField(help_text="The partner's Ed25519 public key (PEM), given by the partner.")
    key_id = models.CharField(max_length=32, unique=True, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from .federation import check_partner

        try:
            self.country, self.key_id = check_partner(self.country, self.base_url, self.public_key)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def save(self, *args, **kwargs):
        # The key id always follows the key: it is how an incoming message finds its partner.
        from openmnr.core.exchange.federation import key_id, parse_public_key

        self.key_id = key_id(parse_public_key(self.public_key))
        super().save(*args, **kwargs)


class Direction(models.TextChoices):
    OUTBOUND = "outbound", "forwarded by us"
    INBOUND = "inbound", "forwarded to us"


class FederatedCase(models.Model):
    """A case forwarded to a partner (outbound) or by one (inbound)."""

    case = models.ForeignKey("hotline.Case", on_delete=models.PROTECT, related_name="federated")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="cases")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    remote_reference = models.CharField(max_length=100, help_text="The case's reference at the partner's.")
    classification = models.JSONField(default=dict, blank=True)
    hosting = models.JSONField(default=dict, blank=True)
    items = models.JSONField(default=list, blank=True, help_text="Inbound: URLs, classifications, signals.")
    outcome_queued = models.BooleanField(default=False, help_text="Inbound: our outcome is in the outbox.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "remote_reference"],
                condition=Q(direction="inbound"),
                name="exchange_one_inbound_case_per_reference",
            ),
            models.UniqueConstraint(
                fields=["partner", "case"],
                condition=Q(direction="outbound"),
                name="exchange_one_forward_per_partner",
            ),
        ]


class InboundMessage(models.Model):
    """A federation message applied here; its id again is a replay."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    message_id = models.CharField(max_length=32)
    kind = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["partner", "message_id"], name="exchange_one_message_per_id")
        ]


class NetworkEvent(models.Model):
    """What happened to a case in the network: forwarded, and each action a partner reported."""

    case = models.ForeignKey("hotline.Case", on_delete=models.PROTECT, related_name="network_events")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    partner = models.CharField(max_length=200, help_text="The partner hotline (name or ICCAM hotline).")
    action = models.CharField(max_length=40, help_text="Vocabulary action code, 'forwarded' or 'received'.")
    at = models.DateTimeField()
    text = models.CharField(max_length=500)
    dedupe_key = models.CharField(max_length=200, unique=True)

    class Meta:
        default_permissions = ()
        ordering = ["at", "pk"]

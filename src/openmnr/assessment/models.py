"""MNR self-assessment data: cycles, what contributors record per capability, evidence, comments and
the history of every change.

The framework itself (domains, capabilities, criteria) is not stored here: it lives in versioned files
in ``openmnr.core.mnr`` and each cycle names the version it was made against, so the rows below refer
to capabilities by number, criteria by id and domains by id. Writes go through ``services.py`` and
``cycles.py`` (the state machine), which keep the history and the audit log; signed results of other
countries are kept in ``ImportedResults``, checked against the key an administrator set in ``PeerCountry``.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from .states import COMMENTABLE, EDITABLE
from .states import State as CycleState

LEVEL_VALIDATORS = [MaxValueValidator(4)]


class Cycle(models.Model):
    """One self-assessment of one country over one period, against one framework version.

    The first signature (``signed_by``) fixes ``content_sha256`` over everything recorded and the live
    indicators frozen with it; the countersignature (``signed_off_by``, a second coordinator) signs
    that same hash. ``framework_digest`` is the digest of the framework file the content was judged
    against, so a later change to that file can be noticed.
    """

    State = CycleState

    country = models.CharField(max_length=100)
    period_start = models.DateField()
    period_end = models.DateField()
    framework_version = models.CharField(
        max_length=50, help_text="The framework file this cycle was made against; never changes."
    )
    state = models.CharField(max_length=30, choices=State.choices, default=State.DRAFT)
    coordinator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    content_sha256 = models.CharField(max_length=64, blank=True)
    framework_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["country", "-period_end", "-pk"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                Lower("country"), condition=~Q(state="signed_off"), name="one_unfinished_cycle_per_country"
            )
        ]
        permissions = [
            ("access_assessment", "Reach the self-assessment pages"),
            ("contribute", "Record levels and evidence for the domains one is assigned to"),
            ("view_all_cycles", "Read every self-assessment cycle"),
            ("manage_cycles", "Open cycles, assign domains, review, sign and countersign"),
            ("export_cycle", "Export an assessment as PDF, CSV, JSON or signed results"),
        ]

    def __str__(self):
        return f"{self.country} {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"

    @property
    def editable(self) -> bool:
        """Whether levels, criteria, evidence and assignments may change (a draft)."""
        return self.state in EDITABLE

    @property
    def takes_comments(self) -> bool:
        return self.state in COMMENTABLE

    @property
    def signed_off(self) -> bool:
        return self.state == self.State.SIGNED_OFF


class CycleDomain(models.Model):
    """A domain of a cycle: who contributes to it and the threat weight the coordinator gives it."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=50, help_text="Domain id in the cycle's framework.")
    weight = models.FloatField(default=1.0)
    contributors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["cycle", "domain"], name="one_row_per_cycle_domain")]


class CapabilityAssessment(models.Model):
    """What was recorded for one capability in one cycle."""

    class Confidence(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="capabilities")
    capability = models.PositiveSmallIntegerField(help_text="Capability number in the cycle's framework.")
    current_level = models.PositiveSmallIntegerField(default=0, validators=LEVEL_VALIDATORS)
    target_level = models.PositiveSmallIntegerField(default=0, validators=LEVEL_VALIDATORS)
    criteria_met = models.JSONField(default=list, blank=True, help_text="Criterion ids, such as '12.2.a'.")
    confidence = models.CharField(max_length=10, choices=Confidence.choices, blank=True)
    stakeholder = models.CharField(
        max_length=200, blank=True, help_text="The responsible stakeholder; owner of the plan's actions."
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["cycle", "capability"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["cycle", "capability"], name="one_row_per_cycle_capability")
        ]

    @property
    def assessed(self) -> bool:
        return self.updated_at is not None


class Evidence(models.Model):
    """A link, a document or a note supporting what was recorded for a capability."""

    class Kind(models.TextChoices):
        LINK = "link", "Link"
        DOCUMENT = "document", "Document"
        NOTE = "note", "Note"

    assessment = models.ForeignKey(CapabilityAssessment, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    criterion = models.CharField(max_length=20, blank=True, help_text="The criterion it supports, if one.")
    url = models.URLField(max_length=2000, blank=True)
    note = models.TextField(blank=True)
    # Documents: stored under VAR_DIR with a random name; the type is what the content is, not the name.
    stored_name = models.CharField(max_length=64, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        default_permissions = ()


class Comment(models.Model):
    """A comment on a capability (or, with no capability, on the cycle as a whole)."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="comments")
    capability = models.PositiveSmallIntegerField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        default_permissions = ()


class HistoryEntry(models.Model):
    """One change to a cycle, kept forever: who, when, what, and each field's old and new value."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="history")
    capability = models.PositiveSmallIntegerField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=50)
    changes = models.JSONField(default=dict, blank=True, help_text="field -> [old, new]")

    class Meta:
        ordering = ["at", "pk"]
        default_permissions = ()


class LiveSnapshot(models.Model):
    """A live indicator's value frozen at the first signature, so a signed assessment keeps the figures it
    was signed with even as the platform's data moves on."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="live_snapshots")
    key = models.CharField(max_length=100)
    value = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=20)
    note = models.CharField(max_length=200, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    computed_at = models.DateTimeField()
    source_url = models.CharField(max_length=500, blank=True)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["cycle", "key"], name="one_snapshot_per_cycle_key")]


class PeerCountry(models.Model):
    """Another country whose signed results this installation accepts, with the Ed25519 public key
    that country signs them with. Only an administrator sets it; a results file is accepted only
    when it verifies under the key of the country it names."""

    country = models.CharField(max_length=100)
    public_key_pem = models.TextField()
    key_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the raw public key.")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["country"]
        default_permissions = ()
        constraints = [models.UniqueConstraint(Lower("country"), name="one_key_per_peer_country")]
        permissions = [
            ("manage_peer_keys", "Set the keys of the countries whose signed results are accepted")
        ]

    def __str__(self):
        return self.country


class ImportedResults(models.Model):
    """The verified, signed results of another country's signed-off cycle, for regional comparison.
    ``payload`` is the results document as signed; documents, when the sender chose to include them,
    are kept beside it under VAR_DIR like evidence documents."""

    country = models.CharField(max_length=100)
    period_start = models.DateField()
    period_end = models.DateField()
    framework_version = models.CharField(max_length=50)
    content_sha256 = models.CharField(max_length=64, help_text="The hash the sender's coordinators signed.")
    key_sha256 = models.CharField(max_length=64, help_text="The key the package verified under.")
    package_sha256 = models.CharField(max_length=64)
    payload = models.JSONField()
    documents = models.JSONField(default=list, blank=True, help_text="[{sha256, stored_name, ...}]")
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["country", "-period_end", "-pk"]
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(Lower("country"), "content_sha256", name="import_each_signed_cycle_once")
        ]
        permissions = [("compare_countries", "Import other countries' signed results and compare them")]

    def __str__(self):
        return f"{self.country} {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"

"""Industry reports: providers' credentials, reports as filed, their files, and the cases law
enforcement triages.

A ``Report`` is one CyberTipline report as a provider filed it (or as the bulk import read it), with
its document kept as received. Its ``File`` rows hold the signals of each uploaded file and what the
banks said, never the bytes (those go to the encrypted evidence store, only when the operator keeps
evidence). When a report is finished it becomes a ``Case`` with its place in the queue and the
reasons for it; ``AccountKey`` rows link cases that name the same account.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .states import CaseState, Outcome, ReportState


class Credential(models.Model):
    """HTTP Basic credentials of a provider at /ispws/. Only the SHA-256 of the password is kept:
    it is 256 random bits made by us, so a slow password hash would add latency to every call and
    no protection (see docs/decisions)."""

    username = models.CharField(max_length=64, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ispws_credentials"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        permissions = [("manage_credentials", "Issue and revoke CyberTipline credentials of providers")]

    def __str__(self):
        return self.username


class Source(models.TextChoices):
    API = "api", "CyberTipline API"
    IMPORT = "import", "Imported file"


class Report(models.Model):
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    provider_name = models.CharField(max_length=200)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    external_id = models.CharField(
        max_length=40, null=True, blank=True, help_text="The report id of an imported report."
    )
    state = models.CharField(max_length=10, choices=ReportState.choices, default=ReportState.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    xml = models.TextField(
        blank=True, help_text="The report document as received; erased if it never finishes."
    )
    incident_type = models.CharField(max_length=120, blank=True)
    escalate = models.TextField(blank=True)
    is_demo = models.BooleanField(default=False)

    class Meta:
        default_permissions = ()
        permissions = [("submit_report", "File reports through the CyberTipline-compatible API")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=Q(external_id__isnull=False),
                name="industry_one_import_per_report_id",
            )
        ]
        indexes = [models.Index(fields=["state", "changed_at"], name="industry_open_reports")]

    def __str__(self):
        return f"industry report {self.pk}"


class ReportTransition(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=10, choices=ReportState.choices)
    to_state = models.CharField(max_length=10, choices=ReportState.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["at", "pk"]


class File(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="files")
    file_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=255, blank=True, help_text="The name the upload carried.")
    size = models.PositiveBigIntegerField(default=0)
    media_type = models.CharField(max_length=20, blank=True, help_text="photo, video or empty (sniffed).")
    uploaded_at = models.DateTimeField(default=timezone.now)
    md5 = models.CharField(max_length=32)
    sha256 = models.CharField(max_length=64, db_index=True)
    pdq = models.CharField(max_length=64, blank=True)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    vpdq = models.TextField(blank=True, default="")
    pdq_probes = models.JSONField(
        default=dict,
        blank=True,
        help_text="The picture's query probes (its turns and mirrors, its border trimmed), matched with its PDQ.",
    )
    pdq_keypoints = models.BinaryField(
        default=b"",
        blank=True,
        editable=False,
        help_text="The picture's local features (OPENMNR_MATCH_FEATURES), kept until the report is "
        "matched, then emptied; never shown.",
    )
    error = models.TextField(blank=True, help_text="Why the file has no perceptual signal.")
    evidence_id = models.CharField(max_length=32, blank=True)
    thumbnail_id = models.CharField(max_length=32, blank=True)
    thumbnail_sha256 = models.CharField(max_length=64, blank=True)
    details_xml = models.TextField(blank=True)
    file_name = models.CharField(max_length=500, blank=True)
    original_file_name = models.CharField(max_length=500, blank=True)
    location = models.TextField(blank=True)
    classification = models.CharField(max_length=2, blank=True, help_text="Industry classification A1-B2.")
    annotations = models.JSONField(default=list, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    matched = models.BooleanField(default=False, help_text="Matched confirmed material in a bank.")
    match_detail = models.JSONField(default=list, blank=True, help_text="Banks and entry ids; never hashes.")
    assessment = models.CharField(max_length=20, blank=True)
    category = models.CharField(max_length=64, blank=True)
    age_group = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(
        default=list, blank=True, help_text="Content flags of the assessment vocabulary."
    )
    auto_assessed = models.BooleanField(default=False)

    class Meta:
        default_permissions = ()
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return f"file {self.file_id}"


class Case(models.Model):
    report = models.OneToOneField(Report, on_delete=models.PROTECT, related_name="case")
    state = models.CharField(max_length=10, choices=CaseState.choices, default=CaseState.QUEUED)
    opened_at = models.DateTimeField(default=timezone.now)
    state_changed_at = models.DateTimeField(default=timezone.now)
    risk = models.BigIntegerField(default=0)
    reasons = models.JSONField(default=list)
    countries = models.JSONField(default=list, help_text="Countries the report concerns (ISO codes).")
    places = models.JSONField(default=list, help_text="[role, country, source] found in the report.")
    concerns_home = models.BooleanField(default=True)
    new_files = models.PositiveIntegerField(default=0)
    known_files = models.PositiveIntegerField(default=0)
    prior_reports = models.PositiveIntegerField(default=0)
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    first_viewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        permissions = [
            ("triage_reports", "Work the industry report queue"),
            ("reveal_media", "Reveal industry report files (after step-up; each reveal audited)"),
            ("export_referral", "Export an industry report as a signed referral package"),
            ("mark_outcome", "Mark the outcome of an industry report"),
            ("view_statistics", "See industry report statistics"),
        ]
        indexes = [models.Index(fields=["state", "-risk", "opened_at"], name="industry_queue")]

    def __str__(self):
        return f"industry case {self.pk}"


class CaseTransition(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=10, choices=CaseState.choices)
    to_state = models.CharField(max_length=10, choices=CaseState.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["at", "pk"]


class AccountKey(models.Model):
    """A reported account a case names: SHA-256 of (provider, service, identifier), so two reports of
    the same account are found by an index without keeping the identifier twice."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="account_keys")
    key = models.CharField(max_length=64, db_index=True)

    class Meta:
        default_permissions = ()
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="industry_one_key_per_case")]

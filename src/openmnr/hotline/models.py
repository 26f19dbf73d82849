"""Hotline data: what reporters sent, the cases (one per reported URL), the media found there, and
what analysts did with them.

A `Submission` is one report as its reporter sent it (the public form or a partner's API call), with
the tracking code. A `Case` is one canonical URL while it is open: a URL reported again joins the
open case (its reporter count grows) instead of opening a second one, and the database enforces it
with a unique constraint over the open states. `MediaItem` holds the signals of each picture or
video found at the URL (never the bytes: those go to the encrypted evidence store, and only when the
operator keeps evidence). The reporter's IP address is stored nowhere.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openmnr.core import signals

from .classification import ILLEGAL, Assessment
from .states import FINISHED, OPEN, State


class FoundWhere(models.TextChoices):
    WEB_PAGE = "web_page", _("A web page")
    SOCIAL_MEDIA = "social_media", _("Social media")
    CHAT = "chat", _("Chat or messaging")
    OTHER = "other", _("Somewhere else")


class ContentKind(models.TextChoices):
    """The report's theme (INHOPE's standard themes). Sexual extortion and grooming are often
    reported without any web address: see NO_URL_THEMES."""

    CSAM = "csam", _("Child sexual abuse material")
    SEXUAL_EXTORTION = "sexual_extortion", _("Sexual extortion (someone threatens to share images)")
    GROOMING = "grooming", _("Grooming or solicitation of a child")
    LIVE_STREAMING = "live_streaming", _("Live-streamed abuse")
    AI_GENERATED = "ai_generated", _("AI-generated sexual images of children")
    OTHER = "other", _("Other concerning content")


# Themes a report may give without a web address, with a description instead; they go to their
# own queue (reports without an address), not to the URL queue.
NO_URL_THEMES = (ContentKind.SEXUAL_EXTORTION, ContentKind.GROOMING)


class Source(models.TextChoices):
    PUBLIC = "public", _("Public form")
    PARTNER = "partner", _("Partner hotline")


class Submission(models.Model):
    """One report as sent. Public reports carry no account and no address; partner reports carry
    the API key and the Idempotency-Key that make a repeated request land on the same row."""

    tracking_code = models.CharField(max_length=20, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    found_where = models.CharField(max_length=20, choices=FoundWhere.choices)
    content_kind = models.CharField(max_length=20, choices=ContentKind.choices)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True, help_text="Given by the reporter for feedback; optional.")
    api_key = models.ForeignKey(
        "accounts.ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    request_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Digest of the API request body, to tell a retry from a reuse."
    )
    partner_reference = models.CharField(max_length=200, blank=True)
    platform = models.CharField(max_length=200, blank=True, help_text="Where it happens (an app, a site).")
    username = models.CharField(max_length=200, blank=True, help_text="The other person's user name there.")
    received_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(
        null=True, blank=True, help_text="Reports without an address: dealt with."
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_demo = models.BooleanField(default=False)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="hotline_one_submission_per_idempotency_key",
            )
        ]

    def __str__(self):
        return f"report {self.pk} ({self.get_source_display()})"


class Case(models.Model):
    """One reported URL and everything done about it. See states.py for its life."""

    url = models.TextField(help_text="Canonical form (openmnr.core.signals.url).")
    url_sha256 = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    opened_at = models.DateTimeField(default=timezone.now)
    state_changed_at = models.DateTimeField(default=timezone.now)
    reporter_count = models.PositiveIntegerField(default=1)
    has_known_match = models.BooleanField(
        default=False, help_text="At least one item matched confirmed material: first in the queue."
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    fetch_log = models.JSONField(default=list, blank=True)
    fetch_error = models.TextField(blank=True)
    triage_attempts = models.PositiveSmallIntegerField(default=0)
    triage_touched_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of a triage run; a stalled run is restarted."
    )
    assessment = models.CharField(max_length=20, choices=Assessment.choices, blank=True)
    category = models.CharField(max_length=64, blank=True)
    age_group = models.CharField(max_length=32, blank=True)
    auto_assessed = models.BooleanField(default=False)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True)
    is_demo = models.BooleanField(default=False)
    # The site, as ICCAM records it per report (vocabulary lists site_type, commerciality,
    # payment_method). Empty, or None for the payment methods: not recorded.
    site_type = models.CharField(max_length=32, blank=True)
    commerciality = models.CharField(max_length=32, blank=True)
    payment_methods = models.JSONField(null=True, blank=True)
    # The law-enforcement hold (holds.py): set while the case is, or was, held.
    held_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.CharField(max_length=500, blank=True)
    hold_answered_at = models.DateTimeField(null=True, blank=True)
    hold_kept_reason = models.CharField(max_length=500, blank=True)
    hold_review_at = models.DateTimeField(null=True, blank=True)
    hold_reminded_at = models.DateTimeField(null=True, blank=True)
    hold_escalated_at = models.DateTimeField(null=True, blank=True)
    # What an unanswered hold does, as the hold rule that placed it said; null / "": the global
    # default (OPENMNR_HOTLINE_HOLD_ANSWER_HOURS, OPENMNR_HOTLINE_HOLD_UNANSWERED), read when it applies.
    hold_answer_hours = models.PositiveIntegerField(null=True, blank=True)
    hold_unanswered = models.CharField(max_length=10, blank=True)
    # The review date a reminder was sent out for (e-mail or webhook, by the takedown app): once per date.
    hold_reminder_sent_for = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        permissions = [
            ("work_queue", "Work the hotline queue: claim, assess and classify cases"),
            ("answer_hold", "See cases held for the police and release or keep them"),
            ("reveal_media", "Reveal reported media (after step-up; each reveal audited)"),
            ("submit_report", "File reports through the API (partner hotlines)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["url_sha256"], condition=Q(state__in=OPEN), name="hotline_one_open_case_per_url"
            )
        ]
        indexes = [
            models.Index(
                fields=["state", "-has_known_match", "-reporter_count", "opened_at"], name="hotline_queue"
            ),
            models.Index(fields=["state", "triage_touched_at"], name="hotline_stalled"),
        ]

    def __str__(self):
        return f"case {self.pk}"

    # What the pages and other apps ask of a case, answered here rather than in templates.
    @property
    def triage_pending(self) -> bool:
        """Reported, and triage has not finished."""
        return self.state == State.RECEIVED

    @property
    def in_queue(self) -> bool:
        """Waiting in the analyst queue: the state in which it may be claimed and assessed."""
        return self.state == State.TRIAGED

    @property
    def awaits_action(self) -> bool:
        """Assessed and not closed: notices, forwards and referrals may still go out."""
        return self.state in (State.ASSESSED, State.ACTIONED)

    @property
    def is_finished(self) -> bool:
        """Closed, a duplicate or not actionable: nothing more happens to it."""
        return self.state in FINISHED

    def is_held_by(self, user) -> bool:
        """The analyst holds (has claimed) this case."""
        return self.claimed_by_id is not None and self.claimed_by_id == user.pk

    def assessable_by(self, user) -> bool:
        """The analyst holds the case and it waits for assessment: its media may be classified."""
        return self.in_queue and self.is_held_by(user)


class ReportedURL(models.Model):
    """Which case each URL of a submission went to, and how the reporter wrote it."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="urls")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    url_as_written = models.TextField()

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["submission", "case"], name="hotline_one_link_per_case")
        ]


class MediaItem(models.Model):
    """A picture or video found at a case's URL: its signals, what the banks said, and how it was
    classified. Unique per (case, URL), which is what makes a re-run of triage add nothing twice."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    url = models.TextField()
    url_sha256 = models.CharField(max_length=64)
    media_type = models.CharField(max_length=50, blank=True, help_text="Sniffed from the bytes.")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    fetch_log = models.JSONField(default=list, blank=True)
    error = models.TextField(
        blank=True, help_text="Why the item has no signals (not fetched, not decodable)."
    )
    sha256 = models.CharField(max_length=64, blank=True)
    md5 = models.CharField(max_length=32, blank=True)
    pdq = models.CharField(max_length=64, blank=True)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    vpdq = models.TextField(blank=True, default="", help_text="A video's vPDQ, one frame per line.")
    evidence_id = models.CharField(max_length=32, blank=True)
    thumbnail_id = models.CharField(max_length=32, blank=True)
    thumbnail_sha256 = models.CharField(max_length=64, blank=True)
    matched = models.BooleanField(default=False, help_text="Matched confirmed material in a bank.")
    match_detail = models.JSONField(default=list, blank=True, help_text="Banks and entry ids; never hashes.")
    assessment = models.CharField(max_length=20, choices=Assessment.choices, blank=True)
    category = models.CharField(max_length=64, blank=True)
    age_group = models.CharField(max_length=32, blank=True)
    # Empty, or None for the flags: not recorded (items assessed before these fields existed).
    gender = models.CharField(max_length=32, blank=True)
    content_type = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(
        null=True, blank=True, help_text="Vocabulary flags: virtual, self-generated, ..."
    )
    auto_assessed = models.BooleanField(default=False)
    needs_review = models.BooleanField(
        default=False, help_text="Known material whose bank entry has no age group: an analyst completes it."
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    proposed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "url_sha256"], name="hotline_one_item_per_url")
        ]

    def __str__(self):
        return f"item {self.pk} of case {self.case_id}"

    @property
    def classified_illegal_by_analyst(self) -> bool:
        """An analyst (not the bank match) judged it illegal: its hashes may be proposed to a bank."""
        return not self.auto_assessed and self.assessment in ILLEGAL

    def signal_values(self) -> dict[str, signals.HashValue]:
        """The item's media signals by type name, in the registry's order.

        The item keeps each media signal type's value in the column named after it (``md5``,
        ``pdq`` and its ``pdq_quality``...), so this reads them through the registry instead of
        naming them: a value below its type's quality threshold comes back with ``low_quality`` set,
        and an empty column does not come back. URL signals are not media signals (the item's
        ``url`` is where it was found, not a value to bank)."""
        values = {}
        for kind in signals.for_content(signals.ContentType.PHOTO, signals.ContentType.VIDEO):
            value = getattr(self, kind.name, "")
            if not value:
                continue
            quality = getattr(self, f"{kind.name}_quality", None)
            low = kind.quality_threshold is not None and (quality or 0) < kind.quality_threshold
            values[kind.name] = signals.HashValue(value, quality, low)
        return values

    @property
    def is_video(self) -> bool:
        return self.media_type.startswith("video/")


class CaseTransition(models.Model):
    """The case's history as the case page shows it (the audit log holds the same, chained)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20, choices=State.choices)
    to_state = models.CharField(max_length=20, choices=State.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["at", "pk"]


class Reveal(models.Model):
    """One item shown unblurred to one analyst: the basis of the exposure timer. Open while
    `ended_at` is empty; it counts at most HOTLINE_REVEAL_SECONDS however long it stays open."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(MediaItem, on_delete=models.CASCADE, related_name="reveals")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["user", "started_at"], name="hotline_reveal_by_day")]

from django.conf import settings
from django.db import models

from .states import State


class LiveAlert(models.Model):
    """One live-alert case: a run of matching frames in one stream (an episode of
    ``openmnr.core.live.rule``), with the bank entries it matched. No frame and no hash is stored:
    the stream identifier, the times and the entries are the whole record."""

    key = models.CharField(max_length=32, unique=True, help_text="the monitor's episode key")
    stream = models.CharField(max_length=500)
    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)
    ongoing = models.BooleanField(default=True, help_text="the stream still showed matching frames")
    raised_at = models.DateTimeField(help_text="when the alert rule first held")
    first_match_at = models.DateTimeField()
    last_match_at = models.DateTimeField()
    # Stream time (seconds from the start of the stream) of the first and last matching frame.
    stream_start = models.FloatField()
    stream_end = models.FloatField()
    matching_samples = models.PositiveIntegerField(default=0)
    # [{entry_id, bank, purpose, classification, category, distance}], most serious first.
    matches = models.JSONField(default=list)
    webhook_error = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-raised_at"]
        permissions = [
            ("view_live_alerts", "See live alerts as they arrive"),
            ("work_live_alerts", "Acknowledge, confirm or dismiss live alerts"),
            ("reveal_live_frames", "Reveal a live alert's buffered frames (with step-up)"),
        ]

    def __str__(self) -> str:
        return f"live alert {self.pk} on {self.stream}"

    @property
    def seconds(self) -> float:
        return max(0.0, self.stream_end - self.stream_start)


class LiveAlertHistory(models.Model):
    """Every state change of a live alert: who, when, from what to what, and why."""

    alert = models.ForeignKey(LiveAlert, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    from_state = models.CharField(max_length=20, choices=State.choices)
    to_state = models.CharField(max_length=20, choices=State.choices)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class LiveAlertFrame(models.Model):
    """One sampled frame of the optional reveal buffer (``openmnr.core.live.reveal``), stored as
    the monitor sealed it (AES-256-GCM nonce + ciphertext + tag; the key is not in the database)
    until ``expires_at``, when ``openmnr.live.frames.expire`` deletes it."""

    alert = models.ForeignKey(LiveAlert, on_delete=models.CASCADE, related_name="frames")
    stream_seconds = models.FloatField()
    sampled_at = models.DateTimeField()
    sealed = models.BinaryField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["stream_seconds", "pk"]

"""The audit log: one append-only table whose rows form a keyed hash chain (see service.py).

Each row stores the hash of the row before it and its own HMAC over its canonical content, so a
changed, removed or inserted row breaks the chain at that row's sequence number. `AuditHead` is the
single row that writers lock to append in order; it is what stops two concurrent writers from
forking the chain. The table refuses UPDATE and DELETE in the database itself (a trigger on
PostgreSQL and on SQLite).
"""

from django.db import models

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=200, help_text="Username, 'apikey:<prefix>', 'public' or 'system'.")
    role = models.CharField(max_length=50, blank=True)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=20)
    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        default_permissions = ()
        permissions = [("view_audit_log", "Read the audit log")]

    def __str__(self):
        return f"#{self.seq} {self.action} by {self.actor}: {self.outcome}"


class AuditHead(models.Model):
    """The chain's head (always the row with id 1): the last sequence number and hash."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    keyed_from = models.BigIntegerField(
        null=True, blank=True, help_text="The first event hashed under the audit key; empty until one is."
    )

    class Meta:
        default_permissions = ()

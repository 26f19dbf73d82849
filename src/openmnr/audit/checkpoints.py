"""Checkpoints: the audit chain's head, signed and written outside the database.

A checkpoint is one line of JSON: the head's sequence number and hash, where keying began, the
audit key's id, the time, and an HMAC over those under a key derived from the audit key (so a
checkpoint cannot be forged without the key). Lines are appended to one file a day,
``AUDIT_CHECKPOINT_DIR/YYYY-MM-DD.jsonl``, by the worker's clock every minute the chain grew
(``tick``) and by ``openmnr audit checkpoint``; each is also sent to syslog when
``AUDIT_SYSLOG`` names a witness. ``openmnr audit verify`` checks the chain against the latest
checkpoint (or against one kept by a witness: ``--checkpoint FILE``).

A checkpoint vouches only for a chain that verifies: ``write`` checks the events since the previous
checkpoint (all of them the first time; the previous checkpoint's own event must be unchanged) and
refuses to write over a broken chain, so the clock raises the alarm (an error in the worker's log
every minute) within a minute of a tampering with recent events. Older events are checked by
``openmnr audit verify``, which walks the whole chain.

What it defends against: an intruder who can change the database, even one who also holds the
audit key, cannot remove events from the end, rewrite or renumber events up to the latest
checkpoint without ``verify`` failing. What it does not: deleting the checkpoint files themselves
(keep the folder on other storage, or rely on the syslog witness), and rewriting the events written
since the latest checkpoint by someone holding the key (at most a minute's worth with the clock).
"""

import hashlib
import hmac
import json
import logging
import logging.handlers
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from . import keys
from .models import GENESIS_HASH, AuditEvent, AuditHead

logger = logging.getLogger(__name__)


class CheckpointError(Exception):
    """A checkpoint file that cannot be read or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    keyed_from: int | None
    key_id: str
    at: str

    def line(self, key: bytes) -> str:
        fields = asdict(self)
        return json.dumps({**fields, "mac": _mac(fields, key)}, sort_keys=True, separators=(",", ":"))

    def contradiction(self, events: int, hash_at_seq: str | None, keyed_from: int | None, key_id: str):
        """(event, reason) if a chain of `events` events, whose event `seq` has `hash_at_seq`,
        contradicts this checkpoint; else None."""
        if self.key_id != key_id:
            return None, f"the checkpoint of {self.at} was written under another audit key"
        if events < self.seq:
            return (
                events + 1,
                f"the checkpoint of {self.at} vouches for {self.seq} events but the chain holds {events}: "
                "events were removed",
            )
        if hash_at_seq != self.hash:
            return (
                self.seq,
                f"event {self.seq} is not the one the checkpoint of {self.at} vouches for: rewritten",
            )
        if keyed_from != self.keyed_from:
            return keyed_from, f"keying began at event {self.keyed_from} by the checkpoint of {self.at}"
        return None


def _mac(fields: dict, key: bytes) -> str:
    checkpoint_key = hmac.new(key, b"openmnr audit checkpoint", hashlib.sha256).digest()
    message = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(checkpoint_key, message, hashlib.sha256).hexdigest()


def parse(line: str, key: bytes) -> Checkpoint:
    try:
        data = json.loads(line)
        mac = data.pop("mac")
        checkpoint = Checkpoint(**data)
    except (ValueError, TypeError, KeyError):
        raise CheckpointError("not a checkpoint") from None
    if not hmac.compare_digest(mac, _mac(asdict(checkpoint), key)):
        raise CheckpointError("its signature does not verify under this audit key (forged or altered)")
    return checkpoint


def latest(source: str | Path | None = None) -> Checkpoint | None:
    """The checkpoint with the highest sequence number in `source` (a file of checkpoint lines, for
    example a witness's copy) or in the newest file of AUDIT_CHECKPOINT_DIR; None if there is none.
    Raises CheckpointError if any line there does not verify."""
    if source is not None:
        path = Path(source)
    else:
        files = sorted(Path(settings.AUDIT_CHECKPOINT_DIR).glob("*.jsonl"))
        if not files:
            return None
        path = files[-1]
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise CheckpointError(f"cannot read the checkpoint file {path}: {error.strerror}") from None
    key = keys.audit_key()
    found = []
    for number, line in enumerate(lines, 1):
        # A syslog witness's line carries a prefix, and maybe a NUL at the end.
        text = (line[line.find("{") :] if "{" in line else line).strip().strip("\x00")
        if not text:
            continue
        try:
            found.append(parse(text, key))
        except CheckpointError as error:
            raise CheckpointError(f"checkpoint {path} line {number}: {error}") from None
    return max(found, key=lambda c: c.seq, default=None)


def write(*, force: bool = False) -> Checkpoint | None:
    """Write a checkpoint of the current head, unless the latest already vouches for it (then None,
    or the same again with `force`). Raises ChainBroken, without writing, if the chain does not
    verify from the previous checkpoint to the head, and CheckpointError for a bad checkpoint file."""
    from .services import ChainBroken, walk

    head = AuditHead.objects.filter(pk=1).first()
    if head is None or head.seq == 0:
        return None
    previous = latest()
    if previous is not None and (previous.seq, previous.hash) == (head.seq, head.hash) and not force:
        return None
    key = keys.audit_key()
    last_hash, first_seq, keyed_from = GENESIS_HASH, 1, None
    if previous is not None:
        if head.seq < previous.seq:
            raise ChainBroken(
                head.seq + 1, f"the chain ends before event {previous.seq} of the last checkpoint"
            )
        anchor = AuditEvent.objects.filter(seq=previous.seq).values_list("hash", flat=True).first()
        if anchor != previous.hash:
            raise ChainBroken(previous.seq, "rewritten since the last checkpoint")
        last_hash, first_seq, keyed_from = previous.hash, previous.seq + 1, previous.keyed_from
    events = AuditEvent.objects.filter(seq__gte=first_seq, seq__lte=head.seq).order_by("seq")
    checked = walk(
        events.iterator(chunk_size=2000),
        prev_hash=last_hash,
        expected_seq=first_seq,
        keyed_from=keyed_from,
        key=key,
    )
    for event, keyed in checked:
        last_hash, keyed_from = event.hash, keyed
    if last_hash != head.hash:
        raise ChainBroken(head.seq, "the head does not match the last event")
    checkpoint = Checkpoint(
        head.seq, head.hash, keyed_from, keys.key_id(key), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    line = checkpoint.line(key)
    _append(Path(settings.AUDIT_CHECKPOINT_DIR) / f"{checkpoint.at[:10]}.jsonl", line)
    _witness(line)
    return checkpoint


def _append(path: Path, line: str) -> None:
    """One write with O_APPEND, flushed to disk: concurrent writers never interleave a line."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _witness(line: str) -> None:
    target = settings.AUDIT_SYSLOG
    if not target:
        return
    if ":" in target and not target.startswith("/"):
        host, _, port = target.rpartition(":")
        address = (host, int(port))
    else:
        address = target
    try:
        handler = logging.handlers.SysLogHandler(
            address=address, facility=logging.handlers.SysLogHandler.LOG_AUTH
        )
    except OSError as error:
        logger.error("cannot reach the audit syslog witness %s: %s", target, error)
        return
    handler.append_nul = False
    record = logging.makeLogRecord(
        {"msg": f"openmnr-audit-checkpoint {line}", "levelno": logging.INFO, "levelname": "INFO"}
    )
    try:
        handler.emit(record)
    finally:
        handler.close()


def tick() -> None:
    """The worker clock's job: a checkpoint whenever the chain grew since the last one."""
    write()

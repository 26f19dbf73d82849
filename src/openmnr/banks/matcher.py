"""This process's match index, kept current by following the change log.

Each web or worker process holds one ``Matcher``: a PDQ index and two exact indices (MD5,
SHA-256) from ``openmnr.core.index``, mapping values to bank entry ids, and a PDQ index of the
good frames of every vPDQ (video) entry, which proposes candidates for ``_video_hits``. On first use it loads the
newest snapshot from ``BANKS_INDEX_DIR`` (memory-mapped: milliseconds, shared with the other
processes through the page cache) or, when there is none, builds the index from the database and
saves a snapshot for the processes that start after it. From then on it follows ``IndexChange``:
before answering a match it asks, at most once every ``BANKS_POLL_SECONDS``, for changes past the
sequence number it has applied, and applies them as deltas (``add`` and ``remove`` on the core
indices, which never rebuild the main segment per change), so memory stays flat across updates.

A process that writes a change itself (an analyst's confirmation in this web worker) catches up
on its next match without waiting for the interval. Each change carries a random token, and the
matcher checks that the change it applied last is still in the log with that token, so a change it
saw inside a transaction that then rolled back (its number reused by the next writer) makes it
reload rather than skip a change.

Why the poll runs on the request path and not in a background thread: it needs no thread to
start, stop or fork safely under gunicorn, it works the same in tests, and a process that matches
nothing needs no current index. The cost is one primary-key range query per second per busy
process. A process idle for a while catches up on its next match (one query, a few deltas); its
heartbeat row simply shows it as idle on the status page.

The index is a candidate generator, not the authority: every hit is checked against the database
(entry active, bank enabled, caller allowed) before it is reported, so a disable is effective at
once everywhere and the index only has to be quick for additions (live within
``BANKS_POLL_SECONDS`` plus the time to apply them).

Snapshots: ``write_snapshot`` builds the index from the database and saves it under
``BANKS_INDEX_DIR/snapshot-<seq>-<random>/`` and then points ``current.json`` at it (an atomic
rename), so a loader sees a whole snapshot or the previous one. The ``bank_snapshot`` command and a
task queued after each import call it. The sequence number is read before the entries, so a
snapshot never misses a change; an entry activated while the snapshot is read may be in it and be
added again by the replay, which is harmless (an answer lists each entry once) and gone at the
next snapshot.
"""

import array
import json
import logging
import os
import secrets
import shutil
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from openmnr.core.index import DIGEST_SIZES, ExactIndex, IndexFileError, PDQIndex
from openmnr.core.signals import vpdq

from . import changes
from .models import BankEntry, IndexChange, MatcherHeartbeat

log = logging.getLogger(__name__)

VALUE_BYTES = {"pdq": 32, **DIGEST_SIZES}
#: Rows gathered per index: the three above, and "vpdq", every good frame of every vPDQ entry.
INDEXED_BYTES = {**VALUE_BYTES, "vpdq": 32}
#: Changes read per query while following the log.
CHANGES_PER_READ = 5000
#: Video frames looked up per query_batch call: near a still scene one lookup finds thousands of
#: rows, so few at a time keeps memory bounded (under 400 MiB for the process in the worst case
#: measured: 18,000 frames against an entry of 18,000 frames of a still scene).
FRAMES_PER_QUERY = 32
#: An entry's frames within this many bits of an earlier one stay out of the frame index (see
#: ``_thinned``), and candidates are looked up within the frame threshold plus this.
THIN_BITS = 8
CANDIDATE_RADIUS = vpdq.FRAME_MATCH_THRESHOLD + THIN_BITS
#: How often a busy process records its heartbeat.
HEARTBEAT_SECONDS = 5.0
#: Snapshots other than the current one are removed once they are this old.
SNAPSHOT_KEEP_SECONDS = 3600
#: Change-log rows covered by a snapshot are pruned once they are this old; a process further
#: behind than that no longer finds its last change in the log and reloads the current snapshot.
CHANGES_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Hit:
    """One index hit: an entry id, the signal type it matched on and the distance (0 if exact).

    For vpdq the distance is 100 minus the smaller of the two percentages, which are kept too."""

    entry_id: int
    signal_type: str
    distance: int
    query_percent: int | None = None
    entry_percent: int | None = None


@dataclass
class Indices:
    """The indices of one snapshot or process, and the change-log position they reflect: PDQ,
    MD5, SHA-256, and ``vpdq``, a PDQ index of every good frame of every vPDQ entry (id = entry)."""

    seq: int
    token: str
    epoch: str
    pdq: PDQIndex
    exact: dict[str, ExactIndex]
    vpdq: PDQIndex

    def count(self) -> int:
        """Values indexed (a value added twice, see the module docstring, counts twice; a video
        counts once per good frame)."""
        return len(self.pdq) + len(self.vpdq) + sum(len(index) for index in self.exact.values())

    def index(self, signal_type: str) -> PDQIndex | ExactIndex:
        if signal_type == "pdq":
            return self.pdq
        return self.vpdq if signal_type == "vpdq" else self.exact[signal_type]

    def add(self, rows: "_Rows") -> None:
        for signal_type in INDEXED_BYTES:
            values, ids = rows.arrays(signal_type)
            if len(ids):
                self.index(signal_type).add(values, ids)

    def remove(self, signal_type: str, entry_id: int) -> None:
        self.index(signal_type).remove([entry_id])


class _Rows:
    """Values and ids gathered per signal type as raw bytes, so that a million rows read from the
    database cost tens of megabytes, not a million Python strings."""

    def __init__(self):
        self.values = {name: bytearray() for name in INDEXED_BYTES}
        self.ids = {name: array.array("q") for name in INDEXED_BYTES}

    def append(self, entry_id: int, signal_type: str, value: str, frames: str = "") -> None:
        """One entry's value; for vpdq each of its good frames (``frames`` is its canonical text)."""
        if signal_type == "vpdq":
            for frame_hash in _thinned(list(dict.fromkeys(f.pdq for f in _good_frames(frames)))):
                self.values["vpdq"] += bytes.fromhex(frame_hash)
                self.ids["vpdq"].append(entry_id)
            return
        self.values[signal_type] += bytes.fromhex(value)
        self.ids[signal_type].append(entry_id)

    def extend(self, rows) -> None:
        """Append (id, signal type, value, frames) rows, such as ``_entry_rows``."""
        for entry_id, signal_type, value, frames in rows:
            self.append(entry_id, signal_type, value, frames)

    def arrays(self, signal_type: str) -> tuple[np.ndarray, np.ndarray]:
        size = INDEXED_BYTES[signal_type]
        values = np.frombuffer(bytes(self.values[signal_type]), np.uint8).reshape(-1, size)
        return values, np.frombuffer(self.ids[signal_type].tobytes(), np.int64)


def _good_frames(text: str) -> list[vpdq.Frame]:
    """The frames that count for matching (quality >= 50); what the frame index holds."""
    return [f for f in vpdq.from_text(text) if f.quality >= vpdq.QUALITY_THRESHOLD]


def _entry_rows(entries):
    return (
        entries.filter(status=BankEntry.Status.ACTIVE)
        .values_list("pk", "signal_type", "value", "frames")
        .iterator(chunk_size=20_000)
    )


def build_from_database() -> Indices:
    """Every active entry, read after the current sequence number (see the module docstring)."""
    seq, token, epoch = changes.head()
    rows = _Rows()
    rows.extend(_entry_rows(BankEntry.objects.all()))
    exact = {name: ExactIndex.build(size, *rows.arrays(name)) for name, size in DIGEST_SIZES.items()}
    return Indices(
        seq, token, epoch, PDQIndex.build(*rows.arrays("pdq")), exact, PDQIndex.build(*rows.arrays("vpdq"))
    )


def write_snapshot(index_dir: Path | None = None, *, indices: Indices | None = None) -> Indices:
    """Save ``indices`` (by default a fresh build from the database) as the current snapshot,
    remove old snapshots and prune the change-log rows it covers; return what was saved."""
    index_dir = Path(index_dir or settings.BANKS_INDEX_DIR)
    if indices is None:
        indices = build_from_database()
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"snapshot-{indices.seq}-{secrets.token_hex(4)}"
    folder = index_dir / name
    folder.mkdir()
    indices.pdq.save(folder / "pdq.idx")
    indices.vpdq.save(folder / "vpdq.idx")
    for signal_type, index in indices.exact.items():
        index.save(folder / f"{signal_type}.idx")
    current = {
        "seq": indices.seq,
        "token": indices.token,
        "epoch": indices.epoch,
        "dir": name,
        "entries": indices.count(),
    }
    pointer = index_dir / f".current.{os.getpid()}.tmp"
    pointer.write_text(json.dumps(current))
    os.replace(pointer, index_dir / "current.json")
    _remove_old_snapshots(index_dir, keep=name)
    # The row at the snapshot's own seq stays: loaders check its token.
    IndexChange.objects.filter(seq__lt=indices.seq, at__lt=timezone.now() - CHANGES_KEEP).delete()
    return indices


def read_snapshot(index_dir: Path) -> Indices | None:
    """The current snapshot, memory-mapped, or None when there is none or it cannot be read."""
    try:
        current = json.loads((index_dir / "current.json").read_text())
        folder = index_dir / current["dir"]
        pdq = PDQIndex.load(folder / "pdq.idx")
        exact = {name: ExactIndex.load(folder / f"{name}.idx") for name in DIGEST_SIZES}
        # A snapshot from before vPDQ has no vpdq.idx: FileNotFoundError, so a build from the database.
        frames = PDQIndex.load(folder / "vpdq.idx")
        return Indices(int(current["seq"]), str(current["token"]), str(current["epoch"]), pdq, exact, frames)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexFileError) as error:
        log.warning("cannot read the index snapshot in %s (%s); building from the database", index_dir, error)
        return None


def _remove_old_snapshots(index_dir: Path, keep: str) -> None:
    cutoff = time.time() - SNAPSHOT_KEEP_SECONDS
    for folder in index_dir.glob("snapshot-*"):
        if folder.name != keep and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


class Matcher:
    """The index of one process; see the module docstring. Safe to share between threads."""

    def __init__(self, index_dir: Path, poll_seconds: float):
        self.index_dir = Path(index_dir)
        self.poll_seconds = poll_seconds
        self.indices: Indices | None = None
        self.loaded_from = ""
        self.started_at = None
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._seen_writes = 0
        self._beat_at = 0.0

    @property
    def seq(self) -> int:
        return self.indices.seq if self.indices is not None else 0

    def ensure_current(self) -> None:
        """Load on first use; then catch up with the change log if the last check is older than
        the poll interval, or at once after this process wrote a change. While one thread catches
        up, the others answer from the current index."""
        due = (
            time.monotonic() - self._checked_at >= self.poll_seconds
            or changes.local_writes != self._seen_writes
        )
        if self.indices is not None and not due:
            return
        if self.indices is None:
            with self._lock:
                self._refresh()
        elif self._lock.acquire(blocking=False):
            try:
                self._refresh()
            finally:
                self._lock.release()

    def lookup(self, items: list[dict[str, str]], radius: int) -> list[list[Hit]]:
        """The hits of each item, an item being {signal type: value} with valid lower-case hex."""
        self.ensure_current()
        indices = self.indices
        hits: list[list[Hit]] = [[] for _ in items]
        for signal_type in VALUE_BYTES:
            positions = [i for i, item in enumerate(items) if item.get(signal_type)]
            if not positions:
                continue
            values = [items[i][signal_type] for i in positions]
            if signal_type == "pdq":
                for i, found in zip(positions, indices.pdq.query_batch(values, radius), strict=True):
                    hits[i].extend(Hit(entry_id, "pdq", distance) for entry_id, distance in found)
            else:
                found_ids = indices.exact[signal_type].query_batch(values)
                for i, ids in zip(positions, found_ids, strict=True):
                    hits[i].extend(Hit(entry_id, signal_type, 0) for entry_id in ids.tolist())
        for i, item in enumerate(items):
            if item.get("vpdq"):
                hits[i].extend(_video_hits(indices, item["vpdq"]))
        return hits

    def _refresh(self) -> None:
        self._checked_at, self._seen_writes = time.monotonic(), changes.local_writes
        seq, token, epoch = changes.head()
        before = self.indices.seq if self.indices is not None else None
        current = self.indices
        if current is None or current.epoch != epoch:
            self._load(seq, epoch)
        elif (current.seq, current.token) != (seq, token) and not self._follow():
            self._load(seq, epoch)
        if self.indices.seq != before or time.monotonic() - self._beat_at >= HEARTBEAT_SECONDS:
            self._heartbeat()

    def _load(self, seq: int, epoch: str) -> None:
        """Start from the current snapshot if it belongs to this database and the log continues
        from it, else from the database (saving a snapshot for the next process)."""
        self.started_at = timezone.now()
        indices = read_snapshot(self.index_dir)
        if indices is not None and indices.epoch == epoch and indices.seq <= seq:
            self.indices, self.loaded_from = indices, "snapshot"
            if self._follow():
                return
        self.indices, self.loaded_from = build_from_database(), "database"
        try:
            write_snapshot(self.index_dir, indices=self.indices)
        except OSError as error:
            log.warning("cannot save an index snapshot in %s: %s", self.index_dir, error)
        self._follow()

    def _follow(self) -> bool:
        """Apply every change past the applied one. False, with nothing applied, when the log no
        longer holds the applied change with its token (pruned, or rolled back and its number
        reused), so that the caller reloads."""
        while True:
            applied = self.indices
            batch = list(
                IndexChange.objects.filter(seq__gte=applied.seq).order_by("seq")[: CHANGES_PER_READ + 1]
            )
            if applied.seq:
                if not batch or (batch[0].seq, batch[0].token) != (applied.seq, applied.token):
                    log.info("the index change log no longer holds seq %s as applied; reloading", applied.seq)
                    return False
                batch = batch[1:]
            if not batch:
                return True
            if batch[0].seq != applied.seq + 1:
                return False
            self._apply(batch)

    def _apply(self, batch: list[IndexChange]) -> None:
        """Apply changes in order, adding consecutive additions in one call per signal type.
        Re-applying after a failure part-way is harmless: additions repeat, removals are idempotent."""
        indices, pending = self.indices, _Rows()
        for change in batch:
            if change.op == IndexChange.Op.ADD and change.signal_type == "vpdq":
                # The log row holds the identity only; the frames are read from the entry.
                pending.extend(_entry_rows(BankEntry.objects.filter(pk=change.entry_id)))
            elif change.op == IndexChange.Op.ADD:
                pending.append(change.entry_id, change.signal_type, change.value)
            elif change.op == IndexChange.Op.ADD_BATCH:
                pending.extend(_entry_rows(BankEntry.objects.filter(batch_id=change.batch_id)))
            elif change.op == IndexChange.Op.DISABLE:
                indices.add(pending)
                pending = _Rows()
                indices.remove(change.signal_type, change.entry_id)
        indices.add(pending)
        indices.seq, indices.token = batch[-1].seq, batch[-1].token

    def _heartbeat(self) -> None:
        self._beat_at = time.monotonic()
        now = timezone.now()
        MatcherHeartbeat.objects.update_or_create(
            host=socket.gethostname(),
            pid=os.getpid(),
            defaults={
                "applied_seq": self.indices.seq,
                "entries": self.indices.count(),
                "loaded_from": self.loaded_from,
                "started_at": self.started_at,
                "seen_at": now,
            },
        )
        MatcherHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()


def _video_hits(indices: Indices, text: str) -> list[Hit]:
    """The vPDQ entries matching a video (``text``: valid vPDQ text), by ThreatExchange's rule: at
    least MATCH_PERCENT of the video's good frames lie within 31 bits of a good frame of the entry,
    *and* at least MATCH_PERCENT of the entry's good frames lie within 31 bits of a frame of the
    video. The second condition keeps a short clip from matching a long video it is part of, and
    the reverse.

    The frame index proposes candidates: entries with a kept frame within CANDIDATE_RADIUS of one
    of the video's frames (a superset of those with any frame within 31 bits, see ``_thinned``),
    looking up only a fifth of the frames, which is enough (``_enough_frames``).
    Each candidate's frames are read from the database and both shares computed exactly
    (``vpdq.share_within``).
    """
    good = Counter(f.pdq for f in _good_frames(text))
    if not good:
        return []
    candidates: set[int] = set()
    hashes = _enough_frames(good)
    for start in range(0, len(hashes), FRAMES_PER_QUERY):
        for found in indices.vpdq.query_batch(hashes[start : start + FRAMES_PER_QUERY], CANDIDATE_RADIUS):
            candidates.update(found.ids.tolist())
    if not candidates:
        return []
    stored = BankEntry.objects.filter(pk__in=candidates, signal_type="vpdq").values_list("pk", "frames")
    hits = []
    for entry_id, entry_text in stored.iterator(chunk_size=100):
        entry_good = Counter(f.pdq for f in _good_frames(entry_text))
        query_percent = vpdq.share_within(good, entry_good)
        if query_percent < vpdq.MATCH_PERCENT:
            continue
        entry_percent = vpdq.share_within(entry_good, good)
        smaller = min(query_percent, entry_percent)
        if smaller >= vpdq.MATCH_PERCENT:
            hits.append(Hit(entry_id, "vpdq", 100 - smaller, query_percent, entry_percent))
    return hits


def _enough_frames(frames: Counter) -> list[str]:
    """The fewest distinct hashes (most frequent first) that stand for more than 100 - MATCH_PERCENT
    percent of the frames: an entry that matches has frames close to at least MATCH_PERCENT percent
    of them, so to at least one of these, and looking up only these finds every such entry."""
    needed, chosen = frames.total() * (100 - vpdq.MATCH_PERCENT) // 100 + 1, []
    for value, count in frames.most_common():
        chosen.append(value)
        needed -= count
        if needed <= 0:
            break
    return chosen


def _thinned(hashes: list[str]) -> list[str]:
    """The frame hashes an entry puts in the frame index: in order, each one not within THIN_BITS
    of one already kept. A still scene gives thousands of near-identical frames, and every lookup
    near them would return all of them; thinned, it gives a few. Nothing is missed: a frame within
    31 bits of a dropped hash is within 31 + THIN_BITS of the hash that covered it, which is the
    radius candidates are looked up with."""
    words = vpdq.hash_words(hashes)
    kept = np.empty((len(hashes), 4), np.uint64)
    count = 0
    chosen = []
    for position, row in enumerate(words):
        if count and (np.bitwise_count(kept[:count] ^ row).sum(axis=1) <= THIN_BITS).any():
            continue
        kept[count] = row
        count += 1
        chosen.append(hashes[position])
    return chosen


_matcher: Matcher | None = None
_matcher_lock = threading.Lock()


def get_matcher() -> Matcher:
    """This process's matcher, created on first use."""
    global _matcher
    with _matcher_lock:
        if _matcher is None or _matcher.index_dir != Path(settings.BANKS_INDEX_DIR):
            _matcher = Matcher(settings.BANKS_INDEX_DIR, settings.BANKS_POLL_SECONDS)
        return _matcher

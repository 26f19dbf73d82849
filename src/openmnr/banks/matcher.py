"""This process's match index, kept current by following the change log.

Each web or worker process holds one ``Matcher``: the ``Indices`` of every signal type a bank holds
(``snapshots.py``), mapping values to bank entry ids. Nothing here names a signal type: how a query
is looked up and whether a candidate must be confirmed against its stored value are the signal
type's methods (``openmnr.core.signals.base``: ``probes``, ``search``, ``verify``). On first use it
loads the newest snapshot from ``BANKS_INDEX_DIR`` (memory-mapped: milliseconds, shared with the
other processes through the page cache) or, when there is none, builds the index from the database
and saves a snapshot for the processes that start after it. From then on it follows
``IndexChange``: before answering a match it asks, at most once every ``BANKS_POLL_SECONDS``, for
changes past the sequence number it has applied, and applies them as deltas (``add`` and
``remove`` on the core indices, which never rebuild the main segment per change), so memory stays
flat across updates.

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
``BANKS_POLL_SECONDS`` plus the time to apply them). For a signal type whose values are longer
than a key (vPDQ), the index holds parts of each value, and the candidates' stored values are read
from the database and compared (``verify``).

Local features (``OPENMNR_MATCH_FEATURES``): beside the hash indices the matcher holds, built on
the first upload that needs it, a ``FeatureIndex`` of the keypoints of active picture entries
(``EntryKeypoints``; at most ``OPENMNR_MATCH_FEATURES_MAX_ENTRIES``, the newest, since checking a
query is a linear scan of every stored keypoint). It follows the same change log: an activated
entry's keypoints are read when its change is applied, a disabled entry's dropped. Each change
builds a new index from a copy and swaps it in, so a check running in another thread keeps a
consistent one. ``keypoint_hits`` is asked only for an upload no hash matched (services.match).
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from openmnr.core.robust import features
from openmnr.core.signals import HashValue, SignalType

from . import changes
from .models import BankEntry, EntryKeypoints, IndexChange, MatcherHeartbeat, signal_types
from .snapshots import Indices, Rows, build_from_database, entry_rows, read_snapshot, write_snapshot

log = logging.getLogger(__name__)

#: Changes read per query while following the log.
CHANGES_PER_READ = 5000
#: How often a busy process records its heartbeat.
HEARTBEAT_SECONDS = 5.0


@dataclass(frozen=True)
class Hit:
    """One index hit: an entry id, the signal type it matched on and the distance (0 if exact).

    For a value made of parts (vPDQ) the distance is 100 minus the smaller of the two
    percentages, which are kept too."""

    entry_id: int
    signal_type: str
    distance: int
    query_percent: int | None = None
    entry_percent: int | None = None


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
        #: The keypoints of active picture entries; None until an upload first needs them.
        self.keypoints: features.FeatureIndex | None = None

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

    def lookup(
        self, items: list[dict[str, str | HashValue]], thresholds: Mapping[str, int]
    ) -> list[list[Hit]]:
        """The hits of each item, an item being {signal type: valid normalised value}; a value
        hashed from content for matching may come as its ``HashValue``, whose probes (a
        picture's turns, mirrors, trimmed border) are looked up with it. A signal type's threshold
        is ``thresholds[name]`` when given, else its own default."""
        self.ensure_current()
        indices = self.indices
        hits: list[list[Hit]] = [[] for _ in items]
        for name, cls in signal_types().items():
            positions = [i for i, item in enumerate(items) if item.get(name)]
            if not positions:
                continue
            threshold = thresholds.get(name, cls.threshold)
            queries = [_query(items[i][name]) for i in positions]
            probes = [[*cls.probes(q.value), *q.probes] for q in queries]
            extra = [list(q.extra_probes) for q in queries]
            more = {"extra": extra} if any(extra) else {}  # a type registered elsewhere may not take it
            found = cls.search(indices[name], probes, threshold, **more)
            for i, query, candidates in zip(positions, queries, found, strict=True):
                if cls.digits is None:
                    candidates = _verified(cls, query.value, candidates, threshold)
                hits[i].extend(
                    Hit(f.id, name, f.distance, f.query_percent, f.stored_percent) for f in candidates
                )
        return hits

    def keypoint_hits(self, keypoints: bytes) -> list[tuple[int, int]]:
        """(entry id, inliers) of every entry whose stored keypoints agree with the query's on one
        similarity transform (``features.FeatureIndex.query``), most inliers first. Raises
        ``features.InvalidFeatures`` for malformed query keypoints."""
        query = features.Features.from_bytes(keypoints)
        self.ensure_current()
        if self.keypoints is None:
            with self._lock:
                if self.keypoints is None:
                    self.keypoints = _keypoint_index()
        return self.keypoints.query(query)

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
        self.keypoints = None  # rebuilt from the database on the next upload that needs it
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
        indices, pending = self.indices, Rows()
        derived = {name for name, cls in pending.types.items() if cls.digits is None}
        if self.keypoints is not None:
            self.keypoints = _keypoints_changed(self.keypoints, batch)
        for change in batch:
            if change.op == IndexChange.Op.ADD and change.signal_type in derived:
                # The log row holds the identity only; the whole value is read from the entry.
                pending.extend(entry_rows(BankEntry.objects.filter(pk=change.entry_id)))
            elif change.op == IndexChange.Op.ADD:
                pending.append(change.entry_id, change.signal_type, change.value)
            elif change.op == IndexChange.Op.ADD_BATCH:
                pending.extend(entry_rows(BankEntry.objects.filter(batch_id=change.batch_id)))
            elif change.op == IndexChange.Op.DISABLE:
                indices.add(pending)
                pending = Rows()
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


def _keypoint_index() -> features.FeatureIndex:
    """The keypoints of the newest active entries that have them, up to the cap."""
    cap = settings.MATCH_FEATURES_MAX_ENTRIES
    rows = list(
        EntryKeypoints.objects.filter(entry__status=BankEntry.Status.ACTIVE)
        .order_by("-entry_id")
        .values_list("entry_id", "data")[: cap + 1]
    )
    if len(rows) > cap:
        log.warning(
            "more than %s active entries have keypoints (OPENMNR_MATCH_FEATURES_MAX_ENTRIES): "
            "the feature check covers the newest %s only",
            cap,
            cap,
        )
    index = features.FeatureIndex()
    index.add_many(_decoded(rows[:cap]))
    return index


def _keypoints_changed(index: features.FeatureIndex, batch: list[IndexChange]) -> features.FeatureIndex:
    """A copy of ``index`` with a batch of changes applied: activated entries' keypoints added
    (read in one query; an entry without any, or no longer active, adds nothing), disabled
    entries removed, and the oldest dropped past the cap."""
    added = [c.entry_id for c in batch if c.op == IndexChange.Op.ADD and c.entry_id is not None]
    removed = [c.entry_id for c in batch if c.op == IndexChange.Op.DISABLE and c.entry_id in index]
    if not removed and not added:
        return index
    rows = EntryKeypoints.objects.filter(entry_id__in=added, entry__status=BankEntry.Status.ACTIVE)
    rows = list(rows.values_list("entry_id", "data")) if added else []
    if not removed and not rows:
        return index
    index = index.copy()
    index.remove_many(removed)
    index.add_many(_decoded(rows))
    over = len(index) - settings.MATCH_FEATURES_MAX_ENTRIES
    if over > 0:
        index.remove_many(sorted(index.entry_ids)[:over])
    return index


def _decoded(rows) -> list[tuple[int, features.Features]]:
    """(entry id, Features) of stored rows; a damaged row is skipped with a warning."""
    found = []
    for entry_id, data in rows:
        try:
            found.append((entry_id, features.Features.from_bytes(bytes(data))))
        except features.InvalidFeatures:
            log.warning("the stored keypoints of entry %s are damaged; skipped", entry_id)
    return found


def _query(value: str | HashValue) -> HashValue:
    return value if isinstance(value, HashValue) else HashValue(value)


def _verified(cls: type[SignalType], query: str, candidates, threshold: int):
    """The candidates the index proposed for ``query`` that match once compared with their
    stored values (read from the database a hundred at a time)."""
    if not candidates:
        return []
    stored = BankEntry.objects.filter(pk__in=[c.id for c in candidates], signal_type=cls.name)
    return list(cls.verify(query, stored.values_list("pk", "frames").iterator(chunk_size=100), threshold))


_matcher: Matcher | None = None
_matcher_lock = threading.Lock()


def get_matcher() -> Matcher:
    """This process's matcher, created on first use."""
    global _matcher
    with _matcher_lock:
        if _matcher is None or _matcher.index_dir != Path(settings.BANKS_INDEX_DIR):
            _matcher = Matcher(settings.BANKS_INDEX_DIR, settings.BANKS_POLL_SECONDS)
        return _matcher

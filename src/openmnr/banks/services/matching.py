"""Hashing uploads and matching signals against the banks, and the state of the match index.

An upload is hashed by ``openmnr.core.signals.hash_content``, which sniffs it once and computes
every signal that applies to it (a picture: PDQ with its quality, MD5, SHA-256; a video: vPDQ, MD5,
SHA-256), decoding in a child process with limits when ``BANKS_ISOLATE_DECODE`` is on. Matching
looks each item's signals up in this process's index (``matcher.py``) and then checks every hit
against the database (entry active, bank enabled, bank open to the caller), so the index is never
the authority. Matching is audited with counts only: neither the values nor what matched.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from openmnr.accounts.roles import roles_of
from openmnr.audit import services as audit
from openmnr.core import signals
from openmnr.core.robust import features
from openmnr.core.signals import SignalError, pdq

from .. import changes, variants
from ..errors import InvalidInput, NotAllowed, TooManyVariants
from ..matcher import Matcher, get_matcher
from ..models import ACTION_ORDER, Bank, BankEntry, Classification, MatcherHeartbeat, Purpose, signal_types
from ..snapshots import current_snapshot
from .access import allowed_bank_ids, require


def thresholds() -> dict[str, int]:
    """Match thresholds that differ from the signal types' own defaults: PDQ's radius is a
    setting (``OPENMNR_BANKS_PDQ_RADIUS``)."""
    return {"pdq": settings.BANKS_PDQ_RADIUS}


def match_limits(isolate: bool | None = None, *, keypoints: bool | None = None) -> signals.Limits:
    """The hashing limits for content about to be matched: the query probes the settings ask for
    (``OPENMNR_MATCH_DIHEDRAL``: turns and mirrors; ``OPENMNR_MATCH_TRIM``: a border trimmed),
    decoded in a child process unless ``isolate`` (default ``OPENMNR_BANKS_ISOLATE_DECODE``) is
    off. Every caller that hashes content to match it (the match API and page, hotline and
    industry triage, the takedown availability check) hashes with these, so a turned, mirrored or
    bordered copy of a bank picture is found everywhere, or, with the settings off, nowhere.

    ``keypoints`` (default ``OPENMNR_MATCH_FEATURES``) adds the picture's local features, for the
    feature check ``match`` runs for an item no hash matched: every caller gets them from here, so
    a cropped copy is found wherever the match API finds it, and with the setting off none are
    computed anywhere."""
    keypoints = settings.MATCH_FEATURES if keypoints is None else keypoints
    return signals.Limits(
        isolate=settings.BANKS_ISOLATE_DECODE if isolate is None else isolate,
        dihedral=settings.MATCH_DIHEDRAL,
        trim=settings.MATCH_TRIM,
        keypoints=features.QUERY_POINTS if keypoints else 0,
    )


def hash_upload(data: bytes, *, for_matching: bool = False) -> signals.Hashes:
    """Every signal of an uploaded picture or video, by signal type name (see the module
    docstring); ``for_matching`` adds the query probes and, with ``OPENMNR_MATCH_FEATURES``, the
    picture's keypoints (``match_limits``). Raises
    ``openmnr.core.media.MediaError`` subclasses for content that cannot be hashed; nothing is
    stored."""
    limits = match_limits() if for_matching else signals.Limits(isolate=settings.BANKS_ISOLATE_DECODE)
    return signals.hash_content(data, limits=limits).raise_for_error()


def upload_signals(data: bytes) -> dict[str, signals.HashValue]:
    """The signals of an uploaded file worth matching, with their query probes: all of them but a
    hash of low quality (a flat picture's PDQ matches too much to act on). With
    ``OPENMNR_MATCH_FEATURES`` on, a picture's PDQ carries its keypoints too, computed in the same
    isolated child. ``match`` takes the result as an item. Raises what ``hash_upload`` raises."""
    hashes = signals.hash_content(data, limits=match_limits()).raise_for_error()
    return {name: hashed for name, hashed in hashes.items() if not hashed.low_quality}


@dataclass(frozen=True)
class ComputedSignal:
    """A hash the match page computed or was given, shown back to the analyst who asked."""

    name: str
    label: str
    value: str  # the hash itself; for a value made of parts (vPDQ), a summary


def describe_signals(values: dict[str, str]) -> list[ComputedSignal]:
    """The signals of one item as an analyst reads them: each type's label and value, in the order
    of the signal registry. A vPDQ is a list of frames too long to read, so it is summarised by its
    frame count (the page can still propose it to a bank)."""
    types = signal_types()
    shown = []
    for name, cls in types.items():
        if name not in values:
            continue
        value = values[name]
        value = value.value if isinstance(value, signals.HashValue) else value
        if cls.digits is None:
            frames = sum(1 for line in value.splitlines() if line.strip())
            value = f"{frames} frame hash(es)"
        shown.append(ComputedSignal(name, cls.label, value))
    return shown


@dataclass(frozen=True)
class MatchDetail:
    """One matching entry, for staff callers only."""

    bank_id: int
    bank: str
    purpose: str
    entry_id: int
    signal_type: str
    distance: int
    classification: str
    category: str
    # For a value made of parts (vPDQ): the share (%) of the item's good frames found in the
    # entry's, and the reverse.
    query_match_percent: int | None = None
    entry_match_percent: int | None = None
    # How it was found: "hash" (the signal within its threshold) or "features" (local features,
    # ``OPENMNR_MATCH_FEATURES``: ``inliers`` keypoints agreed; ``distance`` is then the PDQ
    # distance, beyond the radius, which is why the hash alone did not find it).
    method: str = "hash"
    inliers: int | None = None

    @property
    def purpose_label(self) -> str:
        return dict(Purpose.choices).get(self.purpose, self.purpose)

    @property
    def classification_label(self) -> str:
        return dict(Classification.choices).get(self.classification, self.classification)

    @property
    def signal_label(self) -> str:
        cls = signal_types().get(self.signal_type)
        return cls.label if cls is not None else self.signal_type


@dataclass(frozen=True)
class ItemResult:
    matches: list[MatchDetail] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.matches)

    @property
    def action(self) -> str | None:
        """The purpose of the most serious bank matched (see models.ACTION_ORDER), or None."""
        purposes = {m.purpose for m in self.matches}
        return next((p.value for p in ACTION_ORDER if p in purposes), None)

    @property
    def action_label(self) -> str | None:
        """``action`` as people read it ("Confirmed CSAM")."""
        return None if self.action is None else Purpose(self.action).label


def _validate_signals(item: dict[str, str | signals.HashValue | None]) -> dict[str, signals.HashValue]:
    """Normalise one item's values (and the probes of a value hashed for matching); raise
    InvalidInput naming the signal type (never the value)."""
    types = signal_types()
    clean = {}
    for name, given in item.items():
        if given is None:
            continue
        signal = types.get(name)
        if signal is None:
            raise InvalidInput(f"unknown signal type {name!r}; use {', '.join(types)}")
        hashed = given if isinstance(given, signals.HashValue) else signals.HashValue(given)
        if signal.max_length is not None and len(hashed.value) > signal.max_length:
            raise InvalidInput(f"{name}: at most {signal.max_length:,} characters")
        try:
            clean[name] = signals.HashValue(
                signal.validate(hashed.value),
                probes=tuple(map(signal.validate, hashed.probes)),
                extra_probes=tuple(map(signal.validate, hashed.extra_probes)),
                keypoints=hashed.keypoints,
            )
        except SignalError as error:
            raise InvalidInput(str(error)) from None
    if not clean:
        raise InvalidInput(f"give at least one of {', '.join(types)}")
    return clean


def match(
    items: list[dict[str, str | signals.HashValue | None]], *, user, request=None, record: bool = True
) -> list[ItemResult]:
    """Match each item ({signal type: value}) against the enabled banks the user may match.

    A value hashed from content (``upload_signals``, ``signals.hash_content`` with
    ``match_limits``) may be given as its ``HashValue``: its probes are looked up too, and a
    match reports the distance of the nearest. Returns one ``ItemResult`` per item, in order.
    Audited with counts only: neither the values nor what matched is recorded. ``record=False``
    leaves the (successful) match's event to the caller, which records the counts in its own event
    of the same transaction (a finished industry report: one event instead of two); a refusal is
    recorded here in every case."""
    if not user.has_perm("banks.match_hashes"):
        raise NotAllowed("your role may not match")
    clean = []
    for position, item in enumerate(items):
        try:
            clean.append(_validate_signals(item))
        except InvalidInput as error:
            raise InvalidInput(f"item {position}: {error}") from None
    hits = get_matcher().lookup(clean, thresholds())
    by_id = _allowed_entries({hit.entry_id for item_hits in hits for hit in item_hits}, user)
    results = []
    for item_hits in hits:
        best: dict[int, MatchDetail] = {}
        for hit in sorted(item_hits, key=lambda h: h.distance):
            entry = by_id.get(hit.entry_id)
            if entry is None or entry.signal_type != hit.signal_type or hit.entry_id in best:
                continue
            best[hit.entry_id] = MatchDetail(
                entry.bank_id,
                entry.bank.name,
                entry.bank.purpose,
                entry.pk,
                hit.signal_type,
                hit.distance,
                entry.classification,
                entry.category,
                hit.query_percent,
                hit.entry_percent,
            )
        results.append(ItemResult(list(best.values())))
    if settings.MATCH_FEATURES and not all(result.matched for result in results):
        allowed = allowed_bank_ids(user)
        results = [
            result if result.matched else ItemResult(_keypoint_matches(item.get("pdq"), allowed))
            for item, result in zip(clean, results, strict=True)
        ]
    values = [{name: hashed.value for name, hashed in item.items()} for item in clean]
    if (entry_id := variants.first_over_limit(request, user, values, results)) is not None:
        audit.record(
            "banks.match",
            request=request,
            actor=user,
            outcome=audit.DENIED,
            detail={"near_variants_of": entry_id},
        )
        raise TooManyVariants("too many near-variants of one hash this hour; try again later")
    if record:
        audit.record(
            "banks.match",
            request=request,
            actor=user,
            detail={"items": len(results), "matched": sum(r.matched for r in results)},
        )
    return results


#: What ``match`` reads of a matched entry and its bank: the columns its answer and the permission
#: check use, not the hash, a video's frames or the entry's provenance (a read per match).
ANSWERED_FIELDS = (
    "id bank_id signal_type classification category bank__name bank__purpose bank__match_roles".split()
)


def _allowed_entries(entry_ids: set[int], user) -> dict[int, BankEntry]:
    """The entries among ``entry_ids`` that are active, in an enabled bank the user may match
    (``allowed_bank_ids``: one of the user's roles in the bank's ``match_roles``, or the user's
    account among its ``match_accounts``), by id.

    The bank's roles are read in the same statement as the entries (the bank row joined), so the
    check is as exact at the moment of the match as the separate queries of ``allowed_bank_ids``
    were; the user's roles are read only when an entry is found, and the bank's accounts only
    for entries no role of the user opens. When the index found nothing (new material: most
    industry files) this costs no statement at all."""
    if not entry_ids:
        return {}
    found = list(
        BankEntry.objects.filter(pk__in=entry_ids, status=BankEntry.Status.ACTIVE, bank__enabled=True)
        .select_related("bank")
        .only(*ANSWERED_FIELDS)
    )
    if not found:
        return {}
    roles = set(roles_of(user))
    allowed = {entry.pk: entry for entry in found if roles & set(entry.bank.match_roles)}
    if rest := [entry for entry in found if entry.pk not in allowed]:
        by_account = set(
            Bank.match_accounts.through.objects.filter(
                user_id=user.pk, bank_id__in={entry.bank_id for entry in rest}
            ).values_list("bank_id", flat=True)
        )
        allowed.update({entry.pk: entry for entry in rest if entry.bank_id in by_account})
    return allowed


def _keypoint_matches(query: signals.HashValue | None, allowed) -> list[MatchDetail]:
    """The entries the local-feature check finds for an uploaded picture no hash matched: picture
    entries with keypoints (``EntryKeypoints``) whose keypoints agree with the query's, each checked
    like a hash hit (active, enabled bank, a bank the caller may match), most inliers first. An
    item without keypoints (hashes sent as JSON, a video) finds nothing here."""
    if query is None or not query.keypoints:
        return []
    try:
        hits = dict(get_matcher().keypoint_hits(query.keypoints))
    except features.InvalidFeatures:
        return []
    if not hits:
        return []
    entries = BankEntry.objects.filter(
        pk__in=list(hits),
        signal_type="pdq",
        status=BankEntry.Status.ACTIVE,
        bank__enabled=True,
        bank_id__in=allowed,
    ).select_related("bank")
    found = [
        MatchDetail(
            entry.bank_id,
            entry.bank.name,
            entry.bank.purpose,
            entry.pk,
            entry.signal_type,
            pdq.distance(query.value, entry.value),
            entry.classification,
            entry.category,
            method="features",
            inliers=hits[entry.pk],
        )
        for entry in entries
    ]
    return sorted(found, key=lambda d: (-d.inliers, d.entry_id))


def describe_entries(distances: dict[int, int]) -> list[MatchDetail]:
    """The bank entries behind index hits that a process outside the web found (the live-stream
    monitor): for each id in ``distances`` (entry id -> distance) that is an active entry of an
    enabled bank, its bank, purpose and classification, most serious purpose first, then nearest.

    No user is checked: the caller is the platform's own service, and what it shows to people is
    behind its own permission. Not audited here for the same reason: the caller audits the alert."""
    entries = BankEntry.objects.filter(
        pk__in=list(distances), status=BankEntry.Status.ACTIVE, bank__enabled=True
    ).select_related("bank")
    rank = {purpose: position for position, purpose in enumerate(ACTION_ORDER)}
    details = [
        MatchDetail(
            entry.bank_id,
            entry.bank.name,
            entry.bank.purpose,
            entry.pk,
            entry.signal_type,
            distances[entry.pk],
            entry.classification,
            entry.category,
        )
        for entry in entries
    ]
    return sorted(details, key=lambda d: (rank.get(d.purpose, len(rank)), d.distance, d.entry_id))


@dataclass(frozen=True)
class ProcessStatus:
    """What one process (web or worker) last reported of its index."""

    beat: MatcherHeartbeat
    lag: int  # changes behind the change log's head
    age: float  # seconds since it last checked


@dataclass(frozen=True)
class IndexStatus:
    """The match index everywhere: the change log's head, the entries, the current snapshot
    (``current.json``: seq, entries, dir) and each process, as the index status page shows it."""

    head_seq: int
    active: int
    pending: int
    snapshot: dict | None
    processes: list[ProcessStatus]
    this_process: Matcher
    poll_seconds: float


def index_status(user) -> IndexStatus:
    """The state of the match index, after bringing this process's own up to date."""
    require(user, "banks.view_index_status")
    matcher = get_matcher()
    matcher.ensure_current()
    head_seq = changes.head()[0]
    now = timezone.now()
    processes = [
        ProcessStatus(beat, head_seq - beat.applied_seq, (now - beat.seen_at).total_seconds())
        for beat in MatcherHeartbeat.objects.order_by("host", "pid")
    ]
    return IndexStatus(
        head_seq=head_seq,
        active=BankEntry.objects.filter(status=BankEntry.Status.ACTIVE).count(),
        pending=BankEntry.objects.filter(status=BankEntry.Status.PENDING).count(),
        snapshot=current_snapshot(matcher.index_dir),
        processes=processes,
        this_process=matcher,
        poll_seconds=matcher.poll_seconds,
    )

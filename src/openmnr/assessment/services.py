"""The self-assessment's interface: the functions views, the API, the demo and other apps call.
Recording lives here; who may see what in ``access.py``; moving a cycle (review, the two signatures)
in ``cycles.py``, re-exported here as ``transition``.

Who may do what, on top of the role permissions the views check:

* a national coordinator (``manage_cycles``) opens cycles, assigns domains to contributors, sets the
  domains' threat weights, edits any capability, moves the cycle to review and back, and signs; a
  second coordinator countersigns;
* a contributor (``contribute``) edits only the capabilities of the domains assigned to them in that
  cycle, and sees only the cycles they take part in (unless their role reads every cycle);
* capabilities, evidence and assignments change only while the cycle is a draft; comments are taken
  until it is signed off; a signed-off cycle is read-only;
* a level that a hard prerequisite forbids (the MNR makes the prerequisite essential) is refused, in
  either direction: raising the capability past it, or lowering the prerequisite under it.

Every change writes a HistoryEntry (old and new value of each field) and an audit event, in the same
transaction, and is done on a locked cycle row so that a change cannot slip in beside a signature.
Downloads and exports are audited here too, in the transaction that reads what they return.
"""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.mnr import CapabilityState, FrameworkError, available_versions, load_framework, violations
from openmnr.core.mnr.planning import MAX_WEIGHT

from . import documents
from .access import (
    CONTRIBUTE,
    EXPORT,
    MANAGE,
    assigned_domains,
    can_comment,
    can_edit_capability,
    can_view,
    contributor_choices,
    may_edit_capability,
    visible_cycles,
)
from .analysis import describe_needs
from .cycles import transition
from .errors import CycleLocked, InvalidInput, NotAllowed
from .frameworks import framework_of
from .history import check_editable, locked, log, state_error
from .indicators import IndicatorValue, period_bounds
from .indicators import register as register_indicator
from .models import CapabilityAssessment, Comment, Cycle, CycleDomain, Evidence

State = Cycle.State

__all__ = [
    "IndicatorValue",
    "add_comment",
    "add_evidence",
    "assign_domain",
    "assigned_domains",
    "can_comment",
    "can_edit_capability",
    "can_view",
    "contributor_choices",
    "export",
    "may_edit_capability",
    "open_cycle",
    "open_document",
    "period_bounds",
    "record_capability",
    "register_indicator",
    "remove_evidence",
    "state_error",
    "transition",
    "visible_cycles",
]


# --- changing ---


def open_cycle(
    user, *, country: str, period_start: date, period_end: date, framework_version: str, request=None
) -> Cycle:
    """Open a draft cycle with one row per domain and per capability of the chosen framework."""
    _require(user, MANAGE, "Only a national coordinator opens a cycle.")
    country = (country or "").strip()
    if not country:
        raise InvalidInput("Give the country.")
    if period_end < period_start:
        raise InvalidInput("The period must end on or after the day it starts.")
    if framework_version not in available_versions():
        raise InvalidInput(f"There is no framework version {framework_version!r}.")
    try:
        framework = load_framework(framework_version)
    except FrameworkError as exc:
        raise InvalidInput(f"The framework {framework_version} cannot be used: {exc}") from exc
    unfinished = f"{country} already has a cycle that is not signed off; finish it first."
    if Cycle.objects.filter(country__iexact=country).exclude(state=State.SIGNED_OFF).exists():
        raise InvalidInput(unfinished)
    with transaction.atomic():
        try:
            # The database refuses a second unfinished cycle too, should two coordinators race.
            with transaction.atomic():
                cycle = Cycle.objects.create(
                    country=country,
                    period_start=period_start,
                    period_end=period_end,
                    framework_version=framework.version,
                    coordinator=user,
                )
        except IntegrityError:
            raise InvalidInput(unfinished) from None
        CycleDomain.objects.bulk_create(CycleDomain(cycle=cycle, domain=d.id) for d in framework.domains)
        CapabilityAssessment.objects.bulk_create(
            CapabilityAssessment(cycle=cycle, capability=c.number) for c in framework.capabilities
        )
        log(
            request,
            user,
            cycle,
            "open",
            changes={
                "country": [None, country],
                "period_start": [None, period_start.isoformat()],
                "period_end": [None, period_end.isoformat()],
                "framework_version": [None, framework.version],
            },
        )
    return cycle


def assign_domain(user, cycle: Cycle, domain_id: str, *, contributors, weight: float, request=None) -> None:
    """Set who contributes to a domain of the cycle, and the domain's threat weight in the plan."""
    _require(user, MANAGE, "Only a national coordinator assigns domains.")
    framework = framework_of(cycle)
    if domain_id not in {d.id for d in framework.domains}:
        raise InvalidInput(f"The framework has no domain {domain_id!r}.")
    if not 0 < weight <= MAX_WEIGHT:
        raise InvalidInput(f"The threat weight must be above 0 and at most {MAX_WEIGHT:g}.")
    contributors = list(contributors)
    for person in contributors:
        if not person.has_perm(CONTRIBUTE):
            raise InvalidInput(f"{person.get_username()} has no role that may contribute.")
    with transaction.atomic():
        cycle = locked(cycle)
        check_editable(cycle)
        row = cycle.domains.get(domain=domain_id)
        before = sorted(row.contributors.values_list("username", flat=True))
        after = sorted(p.get_username() for p in contributors)
        changes = {}
        if before != after:
            changes[f"{domain_id}.contributors"] = [before, after]
        if row.weight != weight:
            changes[f"{domain_id}.weight"] = [row.weight, weight]
        if not changes:
            return
        row.weight = weight
        row.save(update_fields=["weight"])
        row.contributors.set(contributors)
        log(request, user, cycle, "assign_domain", changes=changes)


def record_capability(
    user,
    cycle: Cycle,
    number: int,
    *,
    current_level: int,
    target_level: int,
    criteria_met,
    confidence: str,
    stakeholder: str,
    request=None,
) -> CapabilityAssessment:
    """Record the contributor's judgement of one capability. Only the fields that changed are logged."""
    _require_edit(user, cycle, number)
    capability = framework_of(cycle).capability(number)
    for name, level in (("current", current_level), ("target", target_level)):
        if isinstance(level, bool) or level not in range(5):
            raise InvalidInput(f"The {name} level must be 0 to 4.")
    known = [c.id for c in capability.criteria]
    unknown = sorted(set(criteria_met) - set(known))
    if unknown:
        raise InvalidInput(f"Not criteria of capability {number}: {', '.join(unknown)}.")
    if confidence not in CapabilityAssessment.Confidence.values:
        raise InvalidInput("Choose a confidence: low, medium or high.")
    new = {
        "current_level": current_level,
        "target_level": target_level,
        "criteria_met": [c for c in known if c in set(criteria_met)],  # framework order
        "confidence": confidence,
        "stakeholder": stakeholder.strip(),
    }
    with transaction.atomic():
        cycle = locked(cycle)
        check_editable(cycle)
        row = cycle.capabilities.get(capability=number)
        changes = {
            name: [getattr(row, name), value] for name, value in new.items() if getattr(row, name) != value
        }
        if not changes and row.assessed:
            return row
        _check_hard_prerequisites(cycle, number, current_level)
        for name, value in new.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = timezone.now(), user
        row.save()
        log(request, user, cycle, "record_capability", capability=number, changes=changes)
    return row


def _check_hard_prerequisites(cycle: Cycle, number: int, current_level: int) -> None:
    """Refuse a level that contradicts a hard prerequisite: this capability recorded past one it does
    not meet, or a capability others depend on lowered under what they need."""
    framework = framework_of(cycle)
    levels = dict(cycle.capabilities.values_list("capability", "current_level"))
    levels[number] = current_level
    states = {n: CapabilityState(level, level) for n, level in levels.items()}
    broken = [b for b in violations(framework, states) if number in (b.capability, *b.prerequisites)]
    if broken:
        block = broken[0]
        raise InvalidInput(
            f"{framework.capability(block.capability).name} cannot be at level {block.for_level} or more "
            f"while it lacks {describe_needs(block, framework)}: the MNR makes that prerequisite essential."
        )


def add_evidence(
    user,
    cycle: Cycle,
    number: int,
    *,
    kind: str,
    title: str,
    criterion: str = "",
    url: str = "",
    note: str = "",
    upload=None,
    request=None,
) -> Evidence:
    """Attach a link, a document or a note to a capability. A document is checked and stored first;
    if the database write then fails, the stored file is removed again."""
    _require_edit(user, cycle, number)
    capability = framework_of(cycle).capability(number)
    title = title.strip()
    if not title:
        raise InvalidInput("Give the evidence a title.")
    if criterion and criterion not in {c.id for c in capability.criteria}:
        raise InvalidInput(f"{criterion} is not a criterion of capability {number}.")
    fields = {"kind": kind, "title": title, "criterion": criterion}
    if kind == Evidence.Kind.LINK:
        if not url.startswith(("https://", "http://")):
            raise InvalidInput("A link must start with https:// or http://.")
        fields["url"] = url
    elif kind == Evidence.Kind.NOTE:
        if not note.strip():
            raise InvalidInput("Write the note.")
        fields["note"] = note.strip()
    elif kind == Evidence.Kind.DOCUMENT:
        if upload is None:
            raise InvalidInput("Choose a document to upload.")
    else:
        raise InvalidInput("Evidence is a link, a document or a note.")
    # Refuse before storing anything when the cycle cannot take the change anyway.
    check_editable(cycle)
    stored = documents.store(upload) if kind == Evidence.Kind.DOCUMENT else None
    if stored is not None:
        fields.update(
            stored_name=stored.stored_name,
            original_name=(upload.name or "")[:200],
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
        )
    try:
        with transaction.atomic():
            cycle = locked(cycle)
            check_editable(cycle)
            row = cycle.capabilities.get(capability=number)
            item = Evidence.objects.create(assessment=row, added_by=user, **fields)
            changes = {"evidence": [None, _describe(item)]}
            log(request, user, cycle, "add_evidence", capability=number, changes=changes)
    except BaseException:
        if stored is not None:
            documents.delete(stored.stored_name)
        raise
    return item


def remove_evidence(user, item: Evidence, request=None) -> None:
    """Remove a piece of evidence added by mistake. The history keeps what it was and who removed it."""
    row = item.assessment
    cycle, number = row.cycle, row.capability
    _require_edit(user, cycle, number)
    with transaction.atomic():
        cycle = locked(cycle)
        check_editable(cycle)
        changes = {"evidence": [_describe(item), None]}
        stored_name = item.stored_name
        item.delete()
        log(request, user, cycle, "remove_evidence", capability=number, changes=changes)
        if stored_name:
            transaction.on_commit(lambda: documents.delete(stored_name))


def add_comment(user, cycle: Cycle, text: str, *, capability: int | None = None, request=None) -> Comment:
    if not assigned_domains(user, cycle):
        raise NotAllowed("Only the coordinator and the cycle's contributors comment.")
    text = text.strip()
    if not text:
        raise InvalidInput("Write the comment.")
    if capability is not None:
        framework_of(cycle).capability(capability)  # raises for a number the framework lacks
    with transaction.atomic():
        cycle = locked(cycle)
        if not cycle.takes_comments:
            raise CycleLocked("The cycle is signed off and read-only.")
        comment = Comment.objects.create(cycle=cycle, capability=capability, author=user, text=text)
        log(request, user, cycle, "comment", capability=capability, changes={"comment": [None, text]})
    return comment


def _require(user, permission: str, message: str) -> None:
    if not user.has_perm(permission):
        raise NotAllowed(message)


def _require_edit(user, cycle: Cycle, number: int) -> None:
    if not can_edit_capability(user, cycle, number):
        raise NotAllowed(f"Capability {number} is not in a domain assigned to you in this cycle.")


def _describe(item: Evidence) -> str:
    if item.kind == Evidence.Kind.DOCUMENT:
        return f"document: {item.title} ({item.content_type}, {item.size} bytes, sha256 {item.sha256})"
    if item.kind == Evidence.Kind.LINK:
        return f"link: {item.title} <{item.url}>"
    return f"note: {item.title}"


# --- reading what leaves the platform, audited in the same transaction ---


def open_document(user, cycle: Cycle, evidence_id: int, *, request=None):
    """The stored document of a piece of evidence, opened for reading, and its item; the download is
    audited. Raises Evidence.DoesNotExist for an item of another cycle, OSError when it is missing."""
    if not can_view(user, cycle):
        raise NotAllowed("You do not take part in this cycle.")
    item = Evidence.objects.get(pk=evidence_id, assessment__cycle=cycle, kind=Evidence.Kind.DOCUMENT)
    with transaction.atomic():
        handle = documents.path_of(item.stored_name).open("rb")
        audit.record("assessment.evidence_download", request=request, obj=item, detail={"cycle": cycle.pk})
    return handle, item


def export(user, cycle: Cycle, fmt: str, render, *, request=None) -> bytes:
    """``render()``'s bytes (a PDF, CSV or JSON of the cycle), audited with its format; nothing is
    returned when the audit event cannot be written."""
    if not user.has_perm(EXPORT) or not can_view(user, cycle):
        raise NotAllowed("Your role may not export this cycle.")
    with transaction.atomic():
        audit.record("assessment.export", request=request, obj=cycle, detail={"format": fmt})
        return render()

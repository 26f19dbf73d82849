"""The self-assessment workflow: the only code that changes assessment data.

Who may do what, on top of the role permissions the views check:

* a national coordinator (``manage_cycles``) opens cycles, assigns domains to contributors, sets the
  domains' threat weights, edits any capability, moves the cycle to review and back, and signs off;
* a contributor (``contribute``) edits only the capabilities of the domains assigned to them in that
  cycle, and sees only the cycles they take part in (unless their role reads every cycle);
* capabilities, evidence and assignments change only while the cycle is a draft; comments are taken
  in draft and in review; a signed-off cycle is read-only.

Every change writes a HistoryEntry (old and new value of each field) and an audit event, in the same
transaction, and is done on a locked cycle row so that a change cannot slip in beside a sign-off.
"""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.audit import service as audit
from openmnr.core.mnr import FrameworkError, available_versions, load_framework
from openmnr.core.mnr.planning import MAX_WEIGHT

from . import evidence as documents
from . import indicators
from .errors import CycleLocked, InvalidInput, NotAllowed
from .frameworks import framework_of
from .models import CapabilityAssessment, Comment, Cycle, CycleDomain, Evidence, HistoryEntry, LiveSnapshot

MANAGE = "assessment.manage_cycles"
CONTRIBUTE = "assessment.contribute"
VIEW_ALL = "assessment.view_all_cycles"

State = Cycle.State
# The moves the coordinator may make, and what each is called in the history.
TRANSITIONS = {
    (State.DRAFT, State.IN_REVIEW): "submit_for_review",
    (State.IN_REVIEW, State.DRAFT): "return_to_draft",
    (State.IN_REVIEW, State.SIGNED_OFF): "sign_off",
}


# --- reading: which cycles and capabilities a user may see or change ---


def visible_cycles(user):
    if user.has_perm(VIEW_ALL):
        return Cycle.objects.all()
    return Cycle.objects.filter(Q(domains__contributors=user) | Q(coordinator=user)).distinct()


def can_view(user, cycle: Cycle) -> bool:
    return visible_cycles(user).filter(pk=cycle.pk).exists()


def assigned_domains(user, cycle: Cycle) -> set[str]:
    """The domain ids this user may edit in this cycle (all of them for a coordinator)."""
    if user.has_perm(MANAGE):
        return {d.id for d in framework_of(cycle).domains}
    if not user.has_perm(CONTRIBUTE):
        return set()
    return set(cycle.domains.filter(contributors=user).values_list("domain", flat=True))


def can_edit_capability(user, cycle: Cycle, number: int) -> bool:
    """Whether the user's assignment lets them edit this capability (the cycle's state aside)."""
    return framework_of(cycle).capability(number).domain in assigned_domains(user, cycle)


def can_comment(user, cycle: Cycle) -> bool:
    return bool(assigned_domains(user, cycle)) and cycle.state != State.SIGNED_OFF


def contributor_choices():
    """The staff users a coordinator may assign: those whose role lets them contribute."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return [u for u in users if u.has_perm(CONTRIBUTE)]


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
        _log(
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
        cycle = _locked(cycle, editable=True)
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
        _log(request, user, cycle, "assign_domain", changes=changes)


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
        cycle = _locked(cycle, editable=True)
        row = cycle.capabilities.get(capability=number)
        changes = {
            name: [getattr(row, name), value] for name, value in new.items() if getattr(row, name) != value
        }
        if not changes and row.assessed:
            return row
        for name, value in new.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = timezone.now(), user
        row.save()
        _log(request, user, cycle, "record_capability", capability=number, changes=changes)
    return row


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
    _check_editable(cycle)
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
            cycle = _locked(cycle, editable=True)
            row = cycle.capabilities.get(capability=number)
            item = Evidence.objects.create(assessment=row, added_by=user, **fields)
            changes = {"evidence": [None, _describe(item)]}
            _log(request, user, cycle, "add_evidence", capability=number, changes=changes)
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
        cycle = _locked(cycle, editable=True)
        changes = {"evidence": [_describe(item), None]}
        stored_name = item.stored_name
        item.delete()
        _log(request, user, cycle, "remove_evidence", capability=number, changes=changes)
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
        cycle = _locked(cycle, editable=False)
        if cycle.state == State.SIGNED_OFF:
            raise CycleLocked("The cycle is signed off and read-only.")
        comment = Comment.objects.create(cycle=cycle, capability=capability, author=user, text=text)
        _log(request, user, cycle, "comment", capability=capability, changes={"comment": [None, text]})
    return comment


def transition(user, cycle: Cycle, to_state: str, request=None) -> Cycle:
    """Move the cycle along draft -> in review -> signed off (or back from review to draft).
    Signing off freezes the live indicators as they are at that moment."""
    _require(user, MANAGE, "Only a national coordinator moves a cycle to review or signs it off.")
    with transaction.atomic():
        cycle = _locked(cycle, editable=False)
        action = TRANSITIONS.get((cycle.state, to_state))
        if action is None:
            target = State(to_state).label.lower() if to_state in State.values else repr(to_state)
            raise CycleLocked(f"A cycle that is {cycle.get_state_display().lower()} cannot move to {target}.")
        changes = {"state": [cycle.state, to_state]}
        cycle.state = to_state
        if to_state == State.SIGNED_OFF:
            cycle.signed_off_at, cycle.signed_off_by = timezone.now(), user
            _snapshot_live_indicators(cycle)
        cycle.save()
        _log(request, user, cycle, action, changes=changes)
    return cycle


# --- helpers ---


def _snapshot_live_indicators(cycle: Cycle) -> None:
    for indicator in framework_of(cycle).live_indicators():
        try:
            value = indicators.compute(indicator.key, cycle.period_start, cycle.period_end)
        except indicators.ProviderFailed:
            value = None
        if value is None:
            continue
        LiveSnapshot.objects.create(
            cycle=cycle,
            key=indicator.key,
            value=value.value,
            unit=value.unit,
            note=value.note[:200],
            period_start=value.period[0],
            period_end=value.period[1],
            computed_at=value.computed_at,
            source_url=value.source_url[:500],
        )


def _require(user, permission: str, message: str) -> None:
    if not user.has_perm(permission):
        raise NotAllowed(message)


def _require_edit(user, cycle: Cycle, number: int) -> None:
    if not can_edit_capability(user, cycle, number):
        raise NotAllowed(f"Capability {number} is not in a domain assigned to you in this cycle.")


def state_error(cycle: Cycle) -> CycleLocked | None:
    """Why the cycle's levels, evidence and assignments cannot change now, or None in draft."""
    if cycle.state == State.SIGNED_OFF:
        return CycleLocked("The cycle is signed off and read-only.")
    if cycle.state != State.DRAFT:
        return CycleLocked("The cycle is in review; the coordinator can return it to draft for changes.")
    return None


def _check_editable(cycle: Cycle) -> None:
    if error := state_error(cycle):
        raise error


def _locked(cycle: Cycle, *, editable: bool) -> Cycle:
    """The cycle re-read under a row lock, checked against the change about to be made."""
    locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if editable:
        _check_editable(locked)
    return locked


def _describe(item: Evidence) -> str:
    if item.kind == Evidence.Kind.DOCUMENT:
        return f"document: {item.title} ({item.content_type}, {item.size} bytes, sha256 {item.sha256})"
    if item.kind == Evidence.Kind.LINK:
        return f"link: {item.title} <{item.url}>"
    return f"note: {item.title}"


def _log(request, user, cycle: Cycle, action: str, *, capability: int | None = None, changes=None) -> None:
    changes = changes or {}
    HistoryEntry.objects.create(
        cycle=cycle, capability=capability, actor=user, action=action, changes=changes
    )
    # The audit log names what changed; the values stay in the assessment's own history.
    audit.record(
        f"assessment.{action}",
        request=request,
        actor=user,
        obj=cycle,
        detail={"capability": capability, "fields": sorted(changes)},
    )

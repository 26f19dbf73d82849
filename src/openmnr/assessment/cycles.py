"""Moving cycles: the state machine's one door.

``transition`` locks the cycle row, checks the move against ``states.ALLOWED`` and the rules of who may
make it, does what the move means (freeze the live indicators and fix the content hash on the first
signature, check that hash on the countersignature, undo both on a return to draft), writes the
history row and the audit event, all in one transaction. Anything else raises: ``CycleLocked`` for a
move the state does not allow or content that changed under the signer's eyes, ``NotAllowed`` for
the wrong person (the first signer countersigning, for instance), ``InvalidInput`` for a cycle whose
recorded levels break a hard prerequisite.

Step-up (a second factor entered within the last minutes) is checked by the views that lead here,
as for every sensitive action; the four-eyes rule is checked here, so no other door can skip it.
"""

from django.db import transaction
from django.utils import timezone

from openmnr.core.mnr import CapabilityState, violations

from . import signoff
from .access import MANAGE, display_name
from .analysis import describe_needs
from .errors import CycleLocked, InvalidInput, NotAllowed
from .frameworks import framework_of
from .history import locked, log
from .models import Cycle
from .states import ALLOWED, MOVES, State


def transition(user, cycle: Cycle | int, to: str, *, request=None, seen_digest: str | None = None) -> Cycle:
    """Move the cycle to state ``to``.

    ``seen_digest`` is what the confirmation page showed: the records digest for the first signature,
    the content hash for the countersignature. A signature without it, or with another one, is refused.
    """
    if not user.has_perm(MANAGE):
        raise NotAllowed("Only a national coordinator moves a cycle to review, signs or countersigns it.")
    with transaction.atomic():
        cycle = locked(cycle)
        before = cycle.state
        if to not in State.values or to not in ALLOWED[before]:
            target = State(to).label.lower() if to in State.values else repr(to)
            raise CycleLocked(f"A cycle that is {cycle.get_state_display().lower()} cannot move to {target}.")
        changes = {"state": [before, to]}
        if to == State.IN_REVIEW:
            _check_hard_prerequisites(cycle)
        elif to == State.AWAITING_COUNTERSIGNATURE:
            _sign(user, cycle, seen_digest, changes)
        elif to == State.SIGNED_OFF:
            _countersign(user, cycle, seen_digest, changes)
        elif before == State.AWAITING_COUNTERSIGNATURE:  # back to draft: the signature no longer holds
            changes["signed_by"] = [display_name(cycle.signed_by), None]
            cycle.signed_by, cycle.signed_at, cycle.content_sha256, cycle.framework_digest = (
                None,
                None,
                "",
                "",
            )
            cycle.live_snapshots.all().delete()
        cycle.state = to
        cycle.save()
        log(request, user, cycle, MOVES[(before, to)], changes=changes)
    return cycle


def _check_hard_prerequisites(cycle: Cycle) -> None:
    framework = framework_of(cycle)
    states = {
        r.capability: CapabilityState(r.current_level, r.target_level, frozenset(r.criteria_met))
        for r in cycle.capabilities.all()
    }
    broken = violations(framework, states)
    if broken:
        reasons = "; ".join(
            f"{framework.capability(b.capability).name} is at level {b.for_level} or more without "
            f"{describe_needs(b, framework)}"
            for b in broken
        )
        raise InvalidInput(
            f"The recorded levels contradict a prerequisite the MNR makes essential: {reasons}."
        )


def _sign(user, cycle: Cycle, seen_digest: str | None, changes: dict) -> None:
    if not seen_digest or seen_digest != signoff.records_digest(cycle):
        raise CycleLocked(
            "What is recorded changed since the confirmation page was shown; read it again before signing."
        )
    signoff.freeze_live_indicators(cycle)
    cycle.framework_digest = framework_of(cycle).digest
    cycle.signed_by, cycle.signed_at = user, timezone.now()
    cycle.content_sha256 = signoff.content_digest(cycle)
    changes["signed_by"] = [None, display_name(user)]
    changes["content_sha256"] = [None, cycle.content_sha256]


def _countersign(user, cycle: Cycle, seen_digest: str | None, changes: dict) -> None:
    if cycle.signed_by_id == user.pk:
        raise NotAllowed("Four eyes: a second national coordinator countersigns; the one who signed cannot.")
    if not seen_digest or seen_digest != cycle.content_sha256:
        raise CycleLocked(
            "The content hash you confirmed is not the one that was signed; read the page again."
        )
    if signoff.content_digest(cycle) != cycle.content_sha256:
        raise CycleLocked(
            "The cycle's content no longer matches the hash that was signed; it cannot be countersigned."
        )
    cycle.signed_off_by, cycle.signed_off_at = user, timezone.now()
    changes["signed_off_by"] = [None, display_name(user)]

"""The one way a change to a cycle is written down: the cycle row locked, a history row with each
field's old and new value, and the audit event, all in the caller's transaction.

The audit log names what changed, never the values (they stay in the assessment's own history), so
the audit chain holds no assessment content.
"""

from openmnr.audit import services as audit

from .errors import CycleLocked
from .models import Cycle, HistoryEntry


def locked(cycle: Cycle | int) -> Cycle:
    """The cycle re-read under a row lock, held until the surrounding transaction ends, so nothing
    slips in beside a signature."""
    return Cycle.objects.select_for_update().get(pk=getattr(cycle, "pk", cycle))


def state_error(cycle: Cycle) -> CycleLocked | None:
    """Why the cycle's levels, evidence and assignments cannot change now, or None in draft."""
    if cycle.editable:
        return None
    if cycle.signed_off:
        return CycleLocked("The cycle is signed off and read-only.")
    return CycleLocked(
        f"The cycle is {cycle.get_state_display().lower()}; a coordinator can return it to draft for changes."
    )


def check_editable(cycle: Cycle) -> None:
    if error := state_error(cycle):
        raise error


def log(request, user, cycle: Cycle, action: str, *, capability: int | None = None, changes=None) -> None:
    changes = changes or {}
    HistoryEntry.objects.create(
        cycle=cycle, capability=capability, actor=user, action=action, changes=changes
    )
    audit.record(
        f"assessment.{action}",
        request=request,
        actor=user,
        obj=cycle,
        detail={"capability": capability, "fields": sorted(changes)},
    )

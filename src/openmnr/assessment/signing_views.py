"""The moves of a cycle's state machine that people make from its pages: the review buttons, and the
confirmation page of both signatures. Thin: the rules (four eyes, the digest the page showed, hard
prerequisites) are checked in ``cycles.transition``; step-up here, as for every sensitive action."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required

from . import analysis, services, signoff
from .access import display_name
from .errors import CycleLocked, InvalidInput, NotAllowed
from .states import State
from .views import MANAGE, cycle_for, locked_page

# Review moves are plain buttons; the two signatures go through the confirmation page (``sign``).
BUTTON_MOVES = {State.IN_REVIEW, State.DRAFT}


@require_POST
@permission_required(MANAGE, raise_exception=True)
@never_cache
def transition(request, cycle_id):
    cycle = cycle_for(request, cycle_id)
    to = request.POST.get("to", "")
    if to not in BUTTON_MOVES:
        return locked_page(
            request, cycle, CycleLocked("A cycle is signed on its confirmation page, after step-up.")
        )
    try:
        cycle = services.transition(request.user, cycle, to, request=request)
    except CycleLocked as exc:
        return locked_page(request, cycle, exc)
    except InvalidInput as exc:
        return locked_page(request, cycle, exc)
    messages.success(request, f"The cycle is now {cycle.get_state_display().lower()}.")
    return redirect("assessment:dashboard", cycle.pk)


@permission_required(MANAGE, raise_exception=True)
@step_up_required
@never_cache
def sign(request, cycle_id):
    """The confirmation page of both signatures: what will be frozen, the hash, and the button.
    In review it takes the first signature; awaiting countersignature, a second coordinator's."""
    cycle = cycle_for(request, cycle_id)
    if cycle.state not in (State.IN_REVIEW, State.AWAITING_COUNTERSIGNATURE):
        return locked_page(
            request, cycle, CycleLocked(f"A cycle that is {cycle.get_state_display().lower()} is not signed.")
        )
    first = cycle.state == State.IN_REVIEW
    if request.method == "POST":
        to = State.AWAITING_COUNTERSIGNATURE if first else State.SIGNED_OFF
        try:
            cycle = services.transition(
                request.user, cycle, to, request=request, seen_digest=request.POST.get("digest", "")
            )
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from None
        except (CycleLocked, InvalidInput) as exc:
            return locked_page(request, cycle, exc)
        if first:
            messages.success(request, "Signed. A second national coordinator countersigns next.")
        else:
            messages.success(request, "Countersigned: the cycle is signed off.")
        return redirect("assessment:dashboard", cycle.pk)
    result = analysis.assess(cycle)
    return render(
        request,
        "assessment/sign.html",
        {
            "cycle": cycle,
            "a": result,
            "first": first,
            "lines": signoff.frozen_lines(cycle),
            "live": [figure for row in result.rows for figure in row.live],
            "digest": signoff.records_digest(cycle) if first else cycle.content_sha256,
            "signatures": signoff.signatures(cycle),
            "same_person": not first and cycle.signed_by_id == request.user.pk,
            "signer": display_name(request.user),
            "now": timezone.now(),
        },
    )

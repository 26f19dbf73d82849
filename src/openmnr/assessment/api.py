"""Read-only JSON for the self-assessment: the cycles a caller may see and their state. Exports of a
cycle's content go through the staff pages, behind step-up."""

from datetime import date, datetime

from ninja import Router, Schema

from openmnr.accounts.apiauth import require

from . import services

router = Router(tags=["assessment"])


class CycleOut(Schema):
    id: int
    country: str
    period_start: date
    period_end: date
    framework_version: str
    state: str
    signed_off_at: datetime | None


@router.get(
    "/assessment/cycles", response=list[CycleOut], summary="Self-assessment cycles the caller may see"
)
def list_cycles(request):
    require(request, "assessment.access_assessment")
    return list(services.visible_cycles(request.user))

"""Takedown in the JSON API: the removal statistics, and the referrals addressed to the caller."""

from datetime import datetime

from ninja import Field, Router, Schema

from openmnr.accounts.apiauth import require
from openmnr.core.takedown.stats import to_rows

from . import referrals, stats

router = Router(tags=["takedown"])


class StatsRow(Schema):
    group: str
    key: str
    cases: int
    removed: int
    report_to_removal_median_h: float | None
    report_to_removal_p90_h: float | None
    notice_to_removal_median_h: float | None
    notice_to_removal_p90_h: float | None
    removed_within_1d: float | None
    removed_within_3d: float | None
    removed_within_7d: float | None


class ReferralOut(Schema):
    id: int
    case: int
    held: bool = Field(description="Sent because the case was held for the police (before any notice).")
    recipient: str
    created_at: datetime
    encrypted: bool
    evidence_items: int
    size: int


@router.get(
    "/takedown/statistics",
    response=list[StatsRow],
    summary="Removal times: overall, per hosting country, provider (ASN) and month (hours, shares)",
)
def statistics(request):
    require(request, "takedown.view_removal_stats")
    return to_rows(stats.measure())


@router.get("/takedown/referrals", response=list[ReferralOut], summary="Referral packages addressed to you")
def referral_list(request):
    require(request, "takedown.receive_referrals")
    return [
        {
            "id": referral.pk,
            "case": referral.case_id,
            "held": referral.held,
            "recipient": referral.recipient.name,
            "created_at": referral.created_at,
            "encrypted": referral.encrypted,
            "evidence_items": referral.evidence_items,
            "size": referral.size,
        }
        for referral in referrals.visible_to(request.user)[:500]
    ]

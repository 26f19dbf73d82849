from openmnr.common.links import StaffLink

GRANTS = {
    "analyst": ["review_items", "view_activity"],
    "senior_analyst": ["review_items", "view_activity", "close_case"],
    "industry_member": ["report_outcome"],
    "national_coordinator": ["view_activity"],
    "administrator": ["view_activity", "close_case"],
}

STAFF_LINKS = [
    StaffLink(
        "survivors.view_activity",
        "Take it down: activity",
        "survivors:activity",
        "Survivors' cases, pictures received, held and refused, hour by hour; a flood shows here.",
    ),
    StaffLink(
        "survivors.review_items",
        "Take it down: held pictures",
        "survivors:held",
        "Pictures screening held before the self-reported bank: release or reject them; propose a "
        "self-reported picture for confirmation.",
    ),
]

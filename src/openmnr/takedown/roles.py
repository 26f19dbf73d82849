from openmnr.common.links import StaffLink

GRANTS = {
    "analyst": ["view_takedown", "act_takedown", "view_removal_stats"],
    "senior_analyst": ["view_takedown", "act_takedown", "send_referral", "view_removal_stats"],
    "law_enforcement": ["receive_referrals"],
    "national_coordinator": ["view_removal_stats"],
    "administrator": [
        "view_removal_stats",
        # The routing rules, legal text and directory, edited on the administration site.
        "view_policy",
        "add_policy",
        "change_policy",
        "view_directoryentry",
        "add_directoryentry",
        "change_directoryentry",
        "delete_directoryentry",
    ],
}

STAFF_LINKS = [
    StaffLink(
        "takedown.view_takedown",
        "Notice and takedown",
        "takedown:dashboard",
        "Where reported content is hosted, the notices sent, the checks, and what waits for an analyst.",
    ),
    StaffLink(
        "takedown.view_removal_stats",
        "Removal statistics",
        "takedown:stats",
        "How long removal takes: median and p90, per country, provider and month; CSV export.",
    ),
    StaffLink(
        "takedown.receive_referrals",
        "Referrals",
        "takedown:referrals",
        "Signed referral packages addressed to your unit.",
    ),
    StaffLink(
        "takedown.change_directoryentry",
        "Takedown routing and directory",
        "admin:takedown_directoryentry_changelist",
        "Routing rules, the notices' legal text, partner hotlines and law-enforcement contacts.",
    ),
]

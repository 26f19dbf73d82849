from openmnr.common.links import StaffLink

GRANTS = {
    "industry_member": ["submit_report"],
    "analyst": ["triage_reports", "reveal_media", "view_statistics"],
    "senior_analyst": ["triage_reports", "reveal_media", "export_referral", "view_statistics"],
    "law_enforcement": [
        "triage_reports",
        "reveal_media",
        "export_referral",
        "mark_outcome",
        "view_statistics",
    ],
    "national_coordinator": ["view_statistics"],
    "administrator": ["manage_credentials", "view_statistics"],
}

STAFF_LINKS = [
    StaffLink(
        "industry.triage_reports",
        "Industry reports",
        "industry:queue",
        "Reports from online service providers in risk order: escalated, new material and children "
        "in our country first; known material never shown.",
    ),
    StaffLink(
        "industry.triage_reports",
        "Industry reports for other countries",
        "industry:forwarding",
        "Reports that concern only other countries, to export for their police.",
    ),
    StaffLink(
        "industry.view_statistics",
        "Industry report statistics",
        "industry:statistics",
        "Reports received, providers reporting, share with new material, time to first police view.",
    ),
    StaffLink(
        "industry.manage_credentials",
        "CyberTipline credentials",
        "industry:credentials",
        "Issue and revoke the /ispws/ credentials of online service providers.",
    ),
]

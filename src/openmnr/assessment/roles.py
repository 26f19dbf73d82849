"""Who may do what in the MNR self-assessment. Contributors are staff users whom the coordinator
assigns to a domain of a cycle; which capabilities they may edit is checked per object in
service.py (only those of the domains assigned to them, only while the cycle is a draft)."""

from openmnr.common.links import StaffLink

_CONTRIBUTOR = ["access_assessment", "contribute"]

GRANTS = {
    "analyst": _CONTRIBUTOR,
    "senior_analyst": _CONTRIBUTOR,
    "law_enforcement": _CONTRIBUTOR,
    "national_coordinator": [*_CONTRIBUTOR, "view_all_cycles", "manage_cycles", "export_cycle"],
    "administrator": ["access_assessment", "view_all_cycles", "export_cycle"],
}

STAFF_LINKS = [
    StaffLink(
        "assessment.access_assessment",
        "MNR self-assessment",
        "assessment:cycles",
        "Assess the national response against the Model National Response; see gaps and the plan.",
    ),
]

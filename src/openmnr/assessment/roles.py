"""Who may do what in the MNR self-assessment. Contributors are staff users whom the coordinator
assigns to a domain of a cycle; which capabilities they may edit is checked per object in
services.py (only those of the domains assigned to them, only while the cycle is a draft)."""

from openmnr.common.links import StaffLink

_CONTRIBUTOR = ["access_assessment", "contribute"]

GRANTS = {
    "analyst": _CONTRIBUTOR,
    "senior_analyst": _CONTRIBUTOR,
    "law_enforcement": _CONTRIBUTOR,
    "national_coordinator": [
        *_CONTRIBUTOR,
        "view_all_cycles",
        "manage_cycles",
        "export_cycle",
        "compare_countries",
    ],
    # The administrator decides whose signed results are trusted, and imports nothing itself.
    "administrator": ["access_assessment", "view_all_cycles", "export_cycle", "manage_peer_keys"],
}

STAFF_LINKS = [
    StaffLink(
        "assessment.access_assessment",
        "MNR self-assessment",
        "assessment:cycles",
        "Assess the national response against the Model National Response; see gaps and the plan.",
    ),
    StaffLink(
        "assessment.compare_countries",
        "Regional comparison",
        "assessment:comparison",
        "Import other countries' signed results; see shared gaps and who has done what others plan.",
    ),
    StaffLink(
        "assessment.manage_peer_keys",
        "Peer country keys",
        "assessment:peers",
        "Set the keys of the countries whose signed assessment results this installation accepts.",
    ),
]

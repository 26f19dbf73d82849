from openmnr.common.links import StaffLink

GRANTS = {
    "analyst": ["work_queue", "reveal_media"],
    "senior_analyst": ["work_queue", "reveal_media"],
    "partner_hotline": ["submit_report"],
    "law_enforcement": ["answer_hold"],
}

STAFF_LINKS = [
    StaffLink(
        "hotline.work_queue",
        "Hotline queue",
        "hotline:queue",
        "Reported URLs waiting for assessment, known matches first; claim one and classify its media.",
    ),
    StaffLink(
        "hotline.work_queue",
        "Hotline statistics",
        "hotline:statistics",
        "The year's published figures: reports, assessments, age groups, self-generated and AI-generated "
        "shares, site types, hosting countries, removal outcomes; as charts and CSV.",
    ),
    StaffLink(
        "hotline.answer_hold",
        "Cases held for the police",
        "hotline:holds",
        "Illegal cases the police are told of first: release each (notices to the host start) or keep it.",
    ),
]

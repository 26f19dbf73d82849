from openmnr.common.links import StaffLink

GRANTS = {
    "analyst": ["work_queue", "reveal_media"],
    "senior_analyst": ["work_queue", "reveal_media"],
    "partner_hotline": ["submit_report"],
}

STAFF_LINKS = [
    StaffLink(
        "hotline.work_queue",
        "Hotline queue",
        "hotline:queue",
        "Reported URLs waiting for assessment, known matches first; claim one and classify its media.",
    ),
]

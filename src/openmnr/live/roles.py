from openmnr.common.links import StaffLink

GRANTS = {
    "analyst": ["view_live_alerts", "work_live_alerts", "reveal_live_frames"],
    "senior_analyst": ["view_live_alerts", "work_live_alerts", "reveal_live_frames"],
    "administrator": ["view_live_alerts"],
}

STAFF_LINKS = [
    StaffLink(
        "live.view_live_alerts",
        "Live alerts",
        "live:alerts",
        "Known material detected in live streams, as the monitor raises it; acknowledge, confirm or dismiss.",
    ),
]

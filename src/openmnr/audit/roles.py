from openmnr.common.links import StaffLink

GRANTS = {
    "administrator": ["view_audit_log"],
}

STAFF_LINKS = [
    StaffLink(
        "audit.view_audit_log",
        "Audit log",
        "audit:log",
        "Every sensitive action, hash-chained; verify the chain.",
    ),
]

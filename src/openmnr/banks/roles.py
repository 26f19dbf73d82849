from openmnr.common.links import StaffLink

GRANTS = {
    "analyst": ["view_banks", "propose_entry", "view_index_status", "match_hashes", "hash_media"],
    "senior_analyst": [
        "view_banks",
        "propose_entry",
        "confirm_entry",
        "disable_entry",
        "import_entries",
        "export_bank",
        "view_index_status",
        "match_hashes",
        "hash_media",
    ],
    "industry_member": ["match_hashes", "hash_media"],
    "partner_hotline": ["match_hashes", "hash_media"],
    "administrator": ["view_banks", "manage_banks", "view_index_status"],
}

STAFF_LINKS = [
    StaffLink("banks.view_banks", "Hash banks", "banks:list", "Banks and their sizes; propose hashes."),
    StaffLink(
        "banks.confirm_entry",
        "Confirmations",
        "banks:queue",
        "Hashes and imports awaiting a senior analyst's confirmation (four eyes).",
    ),
    StaffLink(
        ("banks.view_banks", "banks.match_hashes"),
        "Match against the banks",
        "banks:match",
        "Check a picture, a video or a hash against the banks; nothing is kept.",
    ),
    StaffLink(
        "banks.view_index_status",
        "Match index status",
        "banks:index-status",
        "Entries, change-log sequence and lag of every matching process.",
    ),
]

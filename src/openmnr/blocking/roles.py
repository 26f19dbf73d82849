"""The blocking app's roles and grants. ``blocking_licensee`` is an API-only role: an internet access
provider, DNS resolver, filter vendor or moderation partner that receives the lists under a licence."""

from openmnr.accounts.roles import Role
from openmnr.common.links import StaffLink

ROLES = [Role("blocking_licensee", "Blocking licensee", False)]

GRANTS = {
    "analyst": ["view_blocking", "view_keywords"],
    "senior_analyst": [
        "view_blocking",
        "publish_list",
        "view_keywords",
        "curate_keywords",
        "fetch_partner_lists",
    ],
    "national_coordinator": ["view_blocking", "view_deterrence_counts"],
    "administrator": [
        "view_blocking",
        "publish_list",
        "view_deterrence_counts",
        "manage_partner_lists",
        "fetch_partner_lists",
    ],
    "blocking_licensee": ["download_list", "download_keywords"],
    "partner_hotline": ["download_partner_export"],
}

STAFF_LINKS = [
    StaffLink(
        "blocking.view_blocking",
        "Blocking list",
        "blocking:dashboard",
        "The URL list licensees receive: its versions, size, freshness and licensees; the deterrence "
        "page's daily counts.",
    ),
    StaffLink(
        "blocking.view_keywords",
        "Keyword list",
        "blocking:keywords",
        "Terms for search and chat moderation partners: propose, confirm with four eyes, disable.",
    ),
    StaffLink(
        "blocking.fetch_partner_lists",
        "Partners' URL lists",
        "blocking:partners",
        "Other hotlines' lists we import: their source, licence, last import and errors, the "
        "schedule; fetch one now.",
    ),
]

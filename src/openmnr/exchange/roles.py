from openmnr.common.links import StaffLink

GRANTS = {
    "analyst": ["view_exchange"],
    "senior_analyst": ["view_exchange"],
    "administrator": [
        "view_exchange",
        "manage_exchange",
        # Partners (an OpenMNR instance's address and public key), edited on the administration site.
        "view_partner",
        "add_partner",
        "change_partner",
        "delete_partner",
    ],
}

STAFF_LINKS = [
    StaffLink(
        "exchange.view_exchange",
        "Exchange with partner hotlines",
        "exchange:dashboard",
        "ICCAM and OpenMNR federation: what came in, what went out, and what waits or failed.",
    ),
    StaffLink(
        "exchange.change_partner",
        "Federation partners",
        "admin:exchange_partner_changelist",
        "Other OpenMNR instances: their address and public key; our own key to give them.",
    ),
]

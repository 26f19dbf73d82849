"""The blocking app's service functions, one module per use case; views, the API, the command and
other apps use these names only.

    publish(by=None) -> ListVersion | None              publishing.py: live cases -> a new version
    clock_job()                                          publishing.py: the worker clock publishes changes
    latest() / state_at(version) / full_hashes_at(v)     publishing.py
    snapshot() / diff(from_version)                      downloads.py: signed documents, audited, paced
    export()                                             downloads.py: our cases' expressions for partners
    full_hashes(prefix) / evaluate(prefix, blinded)      confirmation.py: a prefix hit confirmed
    propose / confirm / disable / listed / export        keywords.py: four eyes, signed export
    count(kind, version) / daily() / help_services()     deterrence.py: aggregate counts only
    register_providers()                                 indicators.py: capability 16's figures
    partners.register / update / remove / fetch / import_file / known_locally
                                                         partners.py: partners' lists, by licence
    partner_schedule.clock_job / fetch_now               partner_schedule.py: fetched on a schedule
"""

from . import deterrence, keywords, partner_schedule, partners
from .confirmation import evaluate, full_hashes
from .downloads import diff, export, snapshot
from .indicators import register_providers
from .publishing import clock_job, full_hashes_at, latest, publish, state_at

__all__ = [
    "clock_job",
    "deterrence",
    "diff",
    "evaluate",
    "export",
    "full_hashes",
    "full_hashes_at",
    "keywords",
    "latest",
    "partner_schedule",
    "partners",
    "publish",
    "register_providers",
    "snapshot",
    "state_at",
]

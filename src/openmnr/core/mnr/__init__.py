"""The WeProtect Model National Response as versioned data, and the gap analysis and action plan built
on it. Pure Python: the Django ``assessment`` app stores assessments and calls these functions.

See docs/assessment.md for the rules as a national coordinator reads them.
"""

from openmnr.core.mnr.errors import (
    CitationError,
    DuplicateError,
    FrameworkError,
    FrameworkFormatError,
    FrameworkNotFoundError,
    LevelError,
    MNRError,
    PrerequisiteCycleError,
    UnknownReferenceError,
)
from openmnr.core.mnr.framework import (
    DEFAULT_VERSION,
    Capability,
    Citation,
    Criterion,
    Domain,
    Enabler,
    Framework,
    Indicator,
    Level,
    Prerequisite,
    Requirement,
    Source,
)
from openmnr.core.mnr.loader import available_versions, load_framework, load_framework_file, parse_framework
from openmnr.core.mnr.planning import (
    Action,
    Block,
    CapabilityState,
    Plan,
    PlanInputError,
    action_plan,
    blocked,
    gaps,
    skipped,
    violations,
)

__all__ = [
    "DEFAULT_VERSION",
    "Action",
    "Block",
    "Capability",
    "CapabilityState",
    "Citation",
    "CitationError",
    "Criterion",
    "Domain",
    "DuplicateError",
    "Enabler",
    "Framework",
    "FrameworkError",
    "FrameworkFormatError",
    "FrameworkNotFoundError",
    "Indicator",
    "Level",
    "LevelError",
    "MNRError",
    "Plan",
    "PlanInputError",
    "Prerequisite",
    "PrerequisiteCycleError",
    "Requirement",
    "Source",
    "UnknownReferenceError",
    "action_plan",
    "available_versions",
    "blocked",
    "gaps",
    "load_framework",
    "load_framework_file",
    "parse_framework",
    "skipped",
    "violations",
]

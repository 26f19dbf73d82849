"""The errors ``openmnr.core.mnr`` raises on purpose. All derive from :class:`MNRError`, so a caller can
catch one type; each subclass says which rule was broken, and its message says where."""


class MNRError(Exception):
    """Base of every error raised by ``openmnr.core.mnr``."""


class FrameworkError(MNRError):
    """A framework file cannot be found or is not a valid framework."""


class FrameworkNotFoundError(FrameworkError):
    """No framework file exists for the requested version id or path."""


class FrameworkFormatError(FrameworkError):
    """The file is not JSON, or a field is missing or has the wrong type."""


class DuplicateError(FrameworkError):
    """Two entries share a number or id that must be unique."""


class UnknownReferenceError(FrameworkError):
    """An entry refers to a capability, domain or source that the framework does not define."""


class LevelError(FrameworkError):
    """Maturity levels are not exactly 0-4, or a criterion or prerequisite names a level outside them,
    or a capability lacks criteria for a level."""


class PrerequisiteCycleError(FrameworkError):
    """The prerequisites between capabilities form a cycle, so no order could satisfy them."""


class CitationError(FrameworkError):
    """A prerequisite does not cite the wording that justifies it, or a citation is empty."""

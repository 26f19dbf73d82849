"""The exceptions the match indices raise. Every one is a ``MatchIndexError``."""


class MatchIndexError(Exception):
    """Base class of every error raised by ``openmnr.core.index``."""


class IndexInputError(MatchIndexError, ValueError):
    """A caller passed a malformed hash or digest, a mismatched list of ids or a radius out of range.

    Messages name the position of a bad value, never the value itself: hash lists are sensitive.
    """


class IndexFileError(MatchIndexError):
    """A file given to ``load`` is not an index of the expected kind, or is truncated or damaged."""

"""The typed errors of a scan. Each names what went wrong with one file so that the scan can list
it and go on: a scan over a million files never stops for one of them."""


class ScanError(Exception):
    """A file that could not be scanned; the message is for the person reading the error list."""

    #: The short name written in the ``error`` column (stable: scripts filter on it).
    kind = "scan_error"


class Unreadable(ScanError):
    """The file cannot be opened or read (permissions, a broken link, an I/O error)."""

    kind = "unreadable"


class SymlinkLoop(ScanError):
    """A symbolic link leads back to a directory already being walked, or to itself."""

    kind = "symlink_loop"


class ArchiveBomb(ScanError):
    """An archive would expand past the size or ratio caps (a zip bomb, or simply too big)."""

    kind = "archive_too_large"


class ArchiveTooDeep(ScanError):
    """An archive nested deeper in other archives than the depth cap allows."""

    kind = "archive_too_deep"


class BadArchive(ScanError):
    """A file that says it is a zip or tar archive but cannot be read as one."""

    kind = "bad_archive"


class ChangedWhileRead(ScanError):
    """The file's size or modification time changed while it was read: its hashes would describe
    content that no longer exists, so none are reported; scan it again once it is still."""

    kind = "changed_while_read"


class BadSource(ScanError):
    """A SOURCE on the command line that names nothing that can be scanned."""

    kind = "bad_source"

"""Unexpected exceptions as the server log gets them: where and what kind, never their message.

``logger.exception`` writes the exception's message, and a message can quote what the platform
must never log: a PostgreSQL error's detail names the key values (a file's hashes), a parser's
message the document, an SMTP error the address. Every place that logs a failure it does not
expect (the CyberTipline views' 1000 answers, the periodic jobs, the live indicators, the
account-reset e-mail) logs ``failure(exc)`` instead: the traceback's frames and the error's type
tell the operator where and why.
"""

import sqlite3
import traceback


def failure(exc: BaseException) -> str:
    """An unexpected exception as the server log gets it: its type, the database's error code and
    message when it is a database error, and the traceback's frames (file, line, function, source
    line), for the exception and the ones it was raised from.

    The exception's own message is left out on purpose: a PostgreSQL error's detail quotes the key
    values (a file's hashes), a parser's message the document, a KeyError its key, an SMTP error
    the address; the log must tell the operator where and why without writing what a provider
    reported, a hash or a person's address into it. SQLite's
    messages ("database is locked", "UNIQUE constraint failed: table.column") name no values and are
    kept; of a PostgreSQL error only its SQLSTATE and the table and constraint it names (even its
    primary message may quote a value: 'invalid input syntax for type integer: "..."')."""
    parts, seen, current = [], set(), exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        line = f"{kind.__module__}.{kind.__qualname__}{_database_error(current)}"
        frames = "".join(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        parts.append(f"{line}\n{frames}".rstrip())
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n  raised from ".join(parts)


def _database_error(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.Error):
        return f" [{getattr(exc, 'sqlite_errorname', '')}] {exc}"
    diag = getattr(exc, "diag", None)  # psycopg's errors
    if diag is not None and getattr(exc, "sqlstate", None):
        names = [
            f"{what} {name}"
            for what in ("table", "constraint")
            if (name := getattr(diag, f"{what}_name", None))
        ]
        return f" [SQLSTATE {exc.sqlstate}]" + (f" ({', '.join(names)})" if names else "")
    return ""

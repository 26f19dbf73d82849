"""An unexpected failure behind /ispws/ is answered 1000 (the provider sends the report again),
stores nothing, and leaves the operator a log line that says where and why it failed without
quoting the provider's report or its files' hashes."""

import logging

import httpx
import pytest
from django.db import IntegrityError, OperationalError
from lxml import etree

from openmnr.core.cybertipline import documents

XML = {"Content-Type": "text/xml; charset=utf-8"}
HASH = "5d41402abc4b2a76b9719d911017c592" * 2  # what a database error's detail would quote


def code_of(response: httpx.Response) -> tuple[int, str]:
    assert response.status_code == 200
    element = etree.fromstring(response.content)
    documents.validate(element)
    return int(element.findtext("responseCode")), element.findtext("responseDescription")


def failures(caplog) -> list[str]:
    """The ERROR lines of the /ispws/ views as a log handler writes them (tracebacks included)."""
    return [
        caplog.handler.format(r)
        for r in caplog.records
        if r.name == "openmnr.industry.ispws" and r.levelno >= logging.ERROR
    ]


@pytest.mark.django_db(transaction=True)
def test_a_failure_is_answered_1000_and_logged_with_where_but_without_the_report(
    ispws, docs, monkeypatch, caplog
):
    from openmnr.industry import intake
    from openmnr.industry.models import Report

    def broken_submit(provider, data, *, request=None):
        try:
            raise ValueError(f"{data[:40]!r} sha256={HASH}")
        except ValueError as exc:
            raise IntegrityError(
                f"duplicate key value\nDETAIL:  Key (sha256)=({HASH}) already exists."
            ) from exc

    monkeypatch.setattr(intake, "submit", broken_submit)
    with caplog.at_level(logging.ERROR, logger="openmnr.industry.ispws"):
        code, description = code_of(ispws.post("/submit", content=docs.report(), headers=XML))
    assert (code, description) == (1000, "Server error: try again later")
    assert Report.objects.count() == 0
    [logged] = failures(caplog)
    # Nothing the provider sent: no hash, no piece of the document...
    assert HASH not in logged and "<report" not in logged and "incidentSummary" not in logged
    # ...but where and what: the request, the exception types and the function that raised them.
    assert "/ispws/submit" in logged and "answered 1000" in logged
    assert "django.db.utils.IntegrityError" in logged and "builtins.ValueError" in logged
    assert "broken_submit" in logged


@pytest.mark.django_db(transaction=True)
def test_a_locked_sqlite_database_is_named_in_the_log(ispws, docs, monkeypatch, caplog):
    """The failure SQLite gives after its busy timeout: the log says so, with SQLite's own code."""
    import sqlite3

    from openmnr.industry import intake

    def locked(provider, data, *, request=None):
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            exc.sqlite_errorname = "SQLITE_BUSY"
            raise OperationalError("database is locked") from exc

    monkeypatch.setattr(intake, "submit", locked)
    with caplog.at_level(logging.ERROR, logger="openmnr.industry.ispws"):
        code, _ = code_of(ispws.post("/submit", content=docs.report(), headers=XML))
    assert code == 1000
    [logged] = failures(caplog)
    assert "sqlite3.OperationalError [SQLITE_BUSY] database is locked" in logged

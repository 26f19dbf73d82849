"""An unexpected failure is logged with where and what kind, never with its message, which may
quote a hash, a report or an address (``openmnr.common.failures``): the periodic jobs, the live
indicators and the account-reset e-mail, as the CyberTipline views already were."""

import logging
from datetime import date

import pytest

from openmnr.accounts import resets
from openmnr.assessment import indicators
from openmnr.web import clock

SECRET = "a1b2c3d4e5f6 survivor@example.invalid"


def _fail(*_args, **_kwargs):
    raise ValueError(f"duplicate key value (pdq)=({SECRET})")


def _logged(caplog) -> str:
    return "\n".join(caplog.handler.format(record) for record in caplog.records)


@pytest.mark.django_db  # each job ends by closing old connections
def test_a_failed_periodic_job(monkeypatch, caplog):
    monkeypatch.setattr(clock, "JOBS", ["tests.web.test_failures_logged._fail"])
    with caplog.at_level(logging.ERROR, logger="openmnr.web.clock"):
        clock.run_jobs()
    logged = _logged(caplog)
    assert "periodic job tests.web.test_failures_logged._fail failed" in logged
    assert "builtins.ValueError" in logged and "in _fail" in logged
    assert SECRET not in logged and "a1b2c3d4e5f6" not in logged


def test_a_failed_live_indicator(monkeypatch, caplog):
    monkeypatch.setattr(indicators, "provider_for", lambda key: _fail)
    with caplog.at_level(logging.ERROR, logger="openmnr.assessment.indicators"):
        with pytest.raises(indicators.ProviderFailed):
            indicators.compute("hotline.reports_received", date(2026, 1, 1), date(2026, 1, 31))
    logged = _logged(caplog)
    assert "live indicator hotline.reports_received: the provider failed" in logged
    assert "builtins.ValueError" in logged
    assert SECRET not in logged


def test_a_failed_reset_email(monkeypatch, caplog):
    monkeypatch.setattr(resets, "send_mail", _fail)
    with caplog.at_level(logging.ERROR, logger="openmnr.accounts.resets"):
        resets._email("survivor@example.invalid", "your account was reset")
    logged = _logged(caplog)
    assert "could not e-mail the account-reset notice" in logged and "builtins.ValueError" in logged
    assert SECRET not in logged and "survivor@example.invalid" not in logged

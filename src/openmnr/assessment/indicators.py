"""Live indicators: figures the platform fills from its own data instead of a contributor typing them.

A framework file marks some indicators ``live`` and gives each a stable key (``hotline.reports_received``
...). Code that can compute a key registers a *provider* for it::

    register("hotline.reports_received", provider)

A provider is a function ``(period_start, period_end) -> IndicatorValue | None`` over whole days
(both included). It returns None when the platform holds no data for the key, and the page then says
so: a provider never makes up a number. The owning app may register its own provider for a key;
that replaces the default one shipped in ``providers.py``.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from openmnr.common.failures import failure

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndicatorValue:
    """A computed figure. ``value`` is None only with a ``note`` saying why (for example a median
    not reached yet because fewer than half of the cases are closed)."""

    value: float | int | None
    unit: str
    period: tuple[date, date]
    computed_at: datetime
    source_url: str = ""
    note: str = ""


Provider = Callable[[date, date], IndicatorValue | None]

_providers: dict[str, Provider] = {}
_defaults: dict[str, Provider] = {}


def register(key: str, provider: Provider, *, default: bool = False) -> None:
    """Use ``provider`` for ``key``. A ``default`` provider (the ones this app ships) is used only
    while no app has registered its own for the same key."""
    (_defaults if default else _providers)[key] = provider


def unregister(key: str) -> None:
    """Forget the non-default provider of ``key`` (the default one, if any, applies again)."""
    _providers.pop(key, None)


def provider_for(key: str) -> Provider | None:
    return _providers.get(key) or _defaults.get(key)


class ProviderFailed(Exception):
    """A provider raised: the figure is unknown, which is different from "no data"."""


def compute(key: str, period_start: date, period_end: date) -> IndicatorValue | None:
    """The figure for ``key`` over the period, or None when no provider or no data.

    Raises ProviderFailed when the provider breaks (for example another app's model changed), so the
    page can say so instead of failing whole or passing it off as "no data".
    """
    provider = provider_for(key)
    if provider is None:
        return None
    try:
        return provider(period_start, period_end)
    except Exception as exc:
        logger.error("live indicator %s: the provider failed: %s", key, failure(exc))
        raise ProviderFailed(key) from exc


def period_bounds(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """The period as [start, end) instants in UTC: from the first day's midnight to the midnight after
    the last day, but never later than now (a period still running is measured up to now)."""
    start = datetime.combine(period_start, time.min, tzinfo=UTC)
    end = datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=UTC)
    return start, min(end, datetime.now(UTC))

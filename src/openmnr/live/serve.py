"""``openmnr live serve``: the supervisor of ``openmnr.core.live`` with the platform's settings,
recording what the children report (``intake.record_event``)."""

import logging
import signal
import sys
import threading

from django.conf import settings

from openmnr.core.live.session import StreamError, StreamSpec
from openmnr.core.live.supervisor import Supervisor

from . import frames, intake

log = logging.getLogger(__name__)


def specs(streams: list[str], listen: list[str]) -> list[StreamSpec]:
    """The configured streams and those given on the command line; raises ``StreamError``."""
    pulled = [*settings.LIVE_STREAMS, *streams]
    listened = [*settings.LIVE_LISTEN, *listen]
    return [StreamSpec(url) for url in pulled] + [StreamSpec(url, listen=True) for url in listened]


def watch_args() -> list[str]:
    buffer = (
        ["--reveal-buffer", str(settings.LIVE_REVEAL_BUFFER_SECONDS)]
        if settings.LIVE_REVEAL_BUFFER_SECONDS > 0
        else []
    )
    return [*buffer,
        "--index-dir", str(settings.BANKS_INDEX_DIR),
        "--rate", str(settings.LIVE_SAMPLE_RATE),
        "--k", str(settings.LIVE_ALERT_K),
        "--w", str(settings.LIVE_ALERT_W),
        "--radius", str(settings.BANKS_PDQ_RADIUS),
        "--read-timeout", str(settings.LIVE_READ_TIMEOUT),
    ]  # fmt: skip


def handle(event: dict) -> None:
    try:
        intake.record_event(event)
    except intake.BadEvent as error:
        log.warning("live monitor: an event was not recorded: %s", error)


def run(streams: list[str], listen: list[str], stop: threading.Event | None = None) -> int:
    try:
        chosen = specs(streams, listen)
    except StreamError as error:
        print(f"openmnr live serve: {error}", file=sys.stderr)
        return 2
    if not chosen:
        print(
            "openmnr live serve: no stream; set OPENMNR_LIVE_STREAMS or OPENMNR_LIVE_LISTEN", file=sys.stderr
        )
        return 2
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGINT"):
            signal.signal(getattr(signal, name), lambda *_: stop.set())
    if settings.LIVE_REVEAL_BUFFER_SECONDS > 0:
        threading.Thread(target=_expire_every_minute, args=(stop,), daemon=True).start()
    Supervisor(chosen, handle, watch_args=watch_args(), stop=stop).run()
    return 0


def _expire_every_minute(stop: threading.Event) -> None:
    """Buffered frames are deleted when they expire even while no alert comes in."""
    from django.db import close_old_connections

    while not stop.wait(60):
        try:
            frames.expire()
        except Exception:  # noqa: BLE001 - a database hiccup: try again next minute
            log.exception("live monitor: expiring buffered frames failed")
        finally:
            close_old_connections()

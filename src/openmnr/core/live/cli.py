"""``openmnr live watch URL...``: watch streams in this process and print each event as a line of
JSON; optionally send alerts to a signed webhook. Runs on ``openmnr.core`` alone (no database), so
a platform can run it beside its media servers; ``openmnr live serve`` runs one per stream."""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from . import reveal, webhook
from .frames import DEFAULT_RATE, DEFAULT_SCENE_THRESHOLD
from .index import IndexUnavailable, SnapshotIndex, index_from_list
from .rule import DEFAULT_K, DEFAULT_W
from .session import Settings, StreamError, StreamSpec, Watcher

WEBHOOK_SECRET_ENV = "OPENMNR_LIVE_WEBHOOK_SECRET"


def default_index_dir() -> Path:
    """Where the banks write their snapshot by default (``BANKS_INDEX_DIR`` in the settings)."""
    return Path(os.environ.get("OPENMNR_VAR_DIR") or Path.cwd() / "var") / "index"


def add_watch_arguments(parser) -> None:
    parser.add_argument(
        "urls", nargs="+", metavar="URL", help="rtmp://, rtsp://, tcp://, udp:// or http(s):// (HLS)"
    )
    parser.add_argument("--listen", action="store_true", help="act as the server publishers connect to")
    parser.add_argument("--name", default="", help="the stream identifier alerts carry (one URL only)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--index-dir", type=Path, help="the banks' snapshot folder (default var/index)")
    source.add_argument("--hashes", type=Path, help="a file of PDQ hashes, one a line, instead of the banks")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="sampled frames a second (2)")
    parser.add_argument("--scene-threshold", type=float, default=DEFAULT_SCENE_THRESHOLD)
    parser.add_argument("--k", type=int, default=DEFAULT_K, help="matching samples that raise an alert (2)")
    parser.add_argument("--w", type=int, default=DEFAULT_W, help="... out of the last W samples (4)")
    parser.add_argument("--radius", type=int, default=31, help="PDQ match radius (31)")
    parser.add_argument(
        "--no-dihedral", action="store_true", help="do not look up turned and mirrored variants"
    )
    parser.add_argument("--open-timeout", type=float, default=10.0)
    parser.add_argument(
        "--read-timeout", type=float, default=10.0, help="seconds without data that count as a stall"
    )
    parser.add_argument("--follow", action="store_true", help="keep watching a client stream after it ends")
    parser.add_argument(
        "--reveal-buffer",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"keep the sampled frames of the last SECONDS sealed with ${reveal.KEY_ENV} and send them "
        "with alerts (off: 0, the default)",
    )
    parser.add_argument(
        "--webhook", default="", help=f"POST alerts here, signed with ${WEBHOOK_SECRET_ENV} (https only)"
    )
    parser.add_argument(
        "--webhook-allow-http", default="", help="hosts a webhook may reach over http (tests)"
    )


def run_watch(args) -> int:
    try:
        specs = [StreamSpec(url, args.name if len(args.urls) == 1 else "", args.listen) for url in args.urls]
        settings = Settings(
            rate=args.rate,
            scene_threshold=args.scene_threshold,
            k=args.k,
            w=args.w,
            radius=args.radius,
            dihedral=not args.no_dihedral,
            open_timeout=args.open_timeout,
            read_timeout=args.read_timeout,
            follow=args.follow,
        )
        if not 1 <= settings.k <= settings.w:
            raise StreamError("the alert rule needs 1 <= K <= W")
        key = reveal.load_key(os.environ.get(reveal.KEY_ENV)) if args.reveal_buffer > 0 else None
        index = (
            index_from_list(args.hashes)
            if args.hashes
            else SnapshotIndex(args.index_dir or default_index_dir())
        )
    except (StreamError, IndexUnavailable, reveal.BufferError, OSError, ValueError) as error:
        print(f"openmnr live watch: {error}", file=sys.stderr)
        return 2
    secret = os.environ.get(WEBHOOK_SECRET_ENV, "")
    if args.webhook and not secret:
        print(f"openmnr live watch: --webhook needs ${WEBHOOK_SECRET_ENV}", file=sys.stderr)
        return 2
    allow_http = tuple(host for host in args.webhook_allow_http.split(",") if host)
    lock = threading.Lock()

    def emit(event) -> None:
        line = json.dumps(event.as_dict(), sort_keys=True)
        with lock:
            print(line, flush=True)
        if args.webhook and event.kind in ("alert_opened", "alert_closed"):
            error = webhook.post(
                args.webhook, secret, webhook.alert_body(event.as_dict()), allow_http=allow_http
            )
            if error:
                print(f"openmnr live watch: webhook: {error}", file=sys.stderr, flush=True)

    stop = threading.Event()
    for name in ("SIGTERM", "SIGINT"):
        signal.signal(getattr(signal, name), lambda *_: stop.set())

    def buffer(spec):
        return reveal.RevealBuffer(key, spec.name, args.reveal_buffer) if key else None

    threads = [
        threading.Thread(target=Watcher(spec, index, emit, settings, stop, buffer(spec)).run, daemon=True)
        for spec in specs
    ]
    for thread in threads:
        thread.start()
    # After a stop, a watcher blocked in a listen or open call may take up to its open timeout to
    # see it; the process does not wait more than two seconds for that (the threads are daemons).
    stopped_at = None
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(0.2)
        if stop.is_set():
            stopped_at = stopped_at or time.monotonic()
            if time.monotonic() - stopped_at > 2.0:
                break
    return 0

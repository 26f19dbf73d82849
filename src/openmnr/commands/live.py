"""``openmnr live watch URL...`` and ``openmnr live serve``: the live-stream monitor.

``watch`` runs on ``openmnr.core`` alone: it watches the streams given, matches sampled frames
against the banks' snapshot (or a hash file) and prints one JSON event a line; alerts can go to a
signed webhook. ``serve`` is the long-running service: it watches the streams configured
(``OPENMNR_LIVE_STREAMS``) and those given with --stream/--listen, one child process each,
restarts a child that crashes, records every alert in the platform as a live-alert case and sends
the configured webhook. docs/live.md explains both.
"""

HELP = "watch live streams for known material (watch URL... | serve)"


def add_arguments(parser) -> None:
    from openmnr.core.live import cli

    commands = parser.add_subparsers(dest="live_command", required=True)
    cli.add_watch_arguments(commands.add_parser("watch", help="watch streams; print events as JSON lines"))
    serve = commands.add_parser(
        "serve", help="the long-running monitor: record alerts, restart after crashes"
    )
    serve.add_argument(
        "--stream", action="append", default=[], metavar="URL", help="a stream to pull (repeatable)"
    )
    serve.add_argument(
        "--listen",
        action="append",
        default=[],
        metavar="URL",
        help="an address to receive streams on (repeatable)",
    )


def run(args) -> int:
    if args.live_command == "watch":
        from openmnr.core.live import cli

        return cli.run_watch(args)
    from . import setup_django

    setup_django()
    from openmnr.live import serve

    return serve.run(args.stream, args.listen)

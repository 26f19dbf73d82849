"""``openmnr iccam sync | check``: the ICCAM API 3 connector by hand.

``sync`` runs one full cycle (import from the no-reference queue, then export) and prints what it
did; the worker's clock runs the same cycle every minute when OPENMNR_ICCAM_URL is set. ``check``
logs in, reads ICCAM's lookup lists and compares their ids with the vocabulary file, to prove the
set-up (certificates, credentials, ids) before the first cycle. Exit status: 0 fine, 1 the cycle or
check failed, 2 ICCAM is not configured.
"""

HELP = "exchange with INHOPE's ICCAM: run one cycle (sync) or check the set-up (check)"


def add_arguments(parser) -> None:
    commands = parser.add_subparsers(dest="iccam_command", required=True)
    commands.add_parser("sync", help="one full cycle: import, then export; prints what it did")
    commands.add_parser("check", help="log in and compare ICCAM's lookup lists with the vocabulary")


def run(args) -> int:
    from . import setup_django

    setup_django()
    from openmnr.exchange import check, config, sync

    try:
        if args.iccam_command == "sync":
            report = sync.run_cycle()
            for line in report.lines():
                print(line)
            return 1 if report.error else 0
        lines, ok = check.run()
        for line in lines:
            print(line)
        return 0 if ok else 1
    except config.NotConfigured as exc:
        print(f"openmnr iccam: {exc}")
        return 2

"""``openmnr audit verify|head``: check the audit log's hash chain, or print its head."""

import sys

from . import setup_django

HELP = "check the audit log's hash chain"


def add_arguments(parser) -> None:
    parser.add_argument(
        "audit_command",
        choices=["verify", "head"],
        help="verify: walk the chain and name the first broken row; head: print the head hash",
    )


def run(args) -> int:
    setup_django()
    from openmnr.audit import service

    if args.audit_command == "head":
        seq, digest = service.head()
        print(f"{seq} {digest}")
        return 0
    result = service.verify()
    if result.ok:
        print(f"audit chain intact: {result.events} events, head {result.head_hash}")
        return 0
    print(f"audit chain broken at sequence number {result.broken_seq}: {result.reason}", file=sys.stderr)
    return 1

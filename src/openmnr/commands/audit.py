"""``openmnr audit verify|head|checkpoint|key``: check the audit log's keyed hash chain against its
latest checkpoint, print its head, write a checkpoint now, or print a new audit key."""

import sys

from . import setup_django

HELP = "check the audit log's chain, print its head, write a checkpoint, make a key"


def add_arguments(parser) -> None:
    parser.add_argument(
        "audit_command",
        choices=["verify", "head", "checkpoint", "key"],
        help="verify: walk the chain and check it against the latest checkpoint, naming the first broken "
        "event; head: print the head's sequence number and hash; checkpoint: write a signed checkpoint "
        "of the head now and print it; key: print a new random audit key (for OPENMNR_AUDIT_KEY)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="verify against the latest checkpoint in FILE (for example a syslog witness's copy) "
        "instead of the checkpoint folder",
    )


def run(args) -> int:
    if args.audit_command == "key":
        from openmnr.audit.keys import generate

        print(generate())
        return 0
    setup_django()
    from openmnr.audit import checkpoints, services

    if args.audit_command == "head":
        seq, digest = services.head()
        print(f"{seq} {digest}")
        return 0
    if args.audit_command == "checkpoint":
        try:
            written = checkpoints.write(force=True)
        except (services.ChainBroken, checkpoints.CheckpointError) as error:
            print(f"no checkpoint written: the chain does not verify: {error}", file=sys.stderr)
            return 1
        if written is None:
            print("the audit log is empty: nothing to vouch for")
        else:
            print(f"checkpoint written: event {written.seq}, hash {written.hash}")
        return 0
    result = services.verify(args.checkpoint)
    if not result.ok:
        where = f" at sequence number {result.broken_seq}" if result.broken_seq is not None else ""
        print(f"audit chain broken{where}: {result.reason}", file=sys.stderr)
        return 1
    print(describe(result))
    return 0


def describe(result) -> str:
    keyed = (
        f"keyed from event {result.keyed_from}"
        if result.keyed_from is not None
        else "NOT keyed yet (written before the audit key existed; the next event keys it)"
    )
    if result.checkpoint is None:
        anchored = "no checkpoint yet: nothing outside the database vouches for it"
    else:
        anchored = f"matches the checkpoint of {result.checkpoint.at} (event {result.checkpoint.seq})"
    return f"audit chain intact: {result.events} events, {keyed}, head {result.head_hash}; {anchored}"

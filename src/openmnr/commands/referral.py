"""``openmnr referral verify FILE --public-key PEM``: check a law-enforcement referral package.
The work is in ``openmnr.core.referral``, which needs no database."""

HELP = "check a law-enforcement referral package"


def add_arguments(parser) -> None:
    from openmnr.core import referral

    commands = parser.add_subparsers(dest="referral_command", required=True)
    verify = commands.add_parser("verify", help="check the signature and every digest")
    referral.add_arguments(verify)


def run(args) -> int:
    from openmnr.core import referral

    return referral.run(args)

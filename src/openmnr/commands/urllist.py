"""``openmnr urllist check URL...``: is a URL on the blocking list? The reference client on
``openmnr.core`` alone (no database): prefixes kept locally, hits confirmed privately with the server.
The work is in ``openmnr.core.urllist.cli``."""

HELP = "check URLs against the blocking list (licensees' reference client)"


def add_arguments(parser) -> None:
    from openmnr.core.urllist import cli

    cli.add_arguments(parser)


def run(args) -> int:
    from openmnr.core.urllist import cli

    return cli.run(args)

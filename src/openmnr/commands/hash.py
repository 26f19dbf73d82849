"""``openmnr hash PATH...``: hash files on ``openmnr.core`` alone (no database), so an industry
member can run it in its own pipeline. The work is in ``openmnr.core.hashrun``."""

HELP = "hash image and video files (PDQ, MD5, SHA-256, vPDQ)"


def add_arguments(parser) -> None:
    from openmnr.core import hashrun

    hashrun.add_arguments(parser)


def run(args) -> int:
    from openmnr.core import hashrun

    return hashrun.run(args)

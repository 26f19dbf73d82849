"""``openmnr demo``: the demo users (one per role) and benign demo content; safe to run again."""

import sys

from . import setup_django

HELP = "load demo users and benign demo content (idempotent)"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from openmnr.web.demo import load_demo

    load_demo(out=sys.stdout)
    return 0

"""``openmnr manage ARGS``: any Django management command, e.g. ``openmnr manage migrate``."""

import argparse
import os

HELP = "run a Django management command"


def add_arguments(parser) -> None:
    parser.add_argument("django_args", nargs=argparse.REMAINDER)


def run(args) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openmnr.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["openmnr manage", *args.django_args])
    return 0

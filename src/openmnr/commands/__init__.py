"""The sub-commands of ``openmnr``, one module each, found by ``openmnr.cli`` without a list.

A command module is small and imports nothing heavy at its top (``openmnr --help`` and
``--version`` must answer at once); it declares::

    HELP = "one line for openmnr --help"
    def add_arguments(parser): ...     # called only when this command was asked for
    def run(args) -> int: ...          # the exit status

and imports what it needs (Django, numpy, PyAV) inside those functions. Commands that need the
database call ``setup_django()`` first.
"""

import os


def setup_django() -> None:
    """Configure Django for a command that needs the database or the apps."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openmnr.web.settings")
    import django

    django.setup()

"""The ``openmnr`` command.

Each sub-command is one module of ``openmnr.commands`` (see its docstring), found by name: adding
a command is adding a module. Only the module of the command asked for declares its arguments, and
heavy libraries are imported only when a command runs, so ``openmnr --help`` and ``--version``
answer without loading numpy, PyAV, cryptography or Django.
"""

import argparse
import pkgutil
import sys
from importlib import import_module

from openmnr import __version__, commands


def _commands() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules(commands.__path__):
        if not info.name.startswith("_"):
            found[info.name.replace("_", "-")] = import_module(f"{commands.__name__}.{info.name}")
    return found


def _asked_for(argv: list[str]) -> str | None:
    """The sub-command named on the command line: the first word that is not an option."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    argv = sys.argv[1:] if argv is None else argv
    asked = _asked_for(argv)
    parser = argparse.ArgumentParser(prog="openmnr", description="OpenMNR command line.")
    parser.add_argument("--version", action="version", version=f"openmnr {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in _commands().items():
        sub = subparsers.add_parser(name, help=module.HELP, description=module.__doc__)
        if name == asked:
            module.add_arguments(sub)
        sub.set_defaults(func=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return args.func(args)
    except Exception as error:
        # A missing setting is the caller's to fix, not a crash: one line that says what and where.
        from django.core.exceptions import ImproperlyConfigured

        if not isinstance(error, ImproperlyConfigured):
            raise
        print(f"openmnr: {error}", file=sys.stderr)
        print(
            "For the local demo, run openmnr in the checkout where `make run` wrote var/local.env, "
            "or set OPENMNR_VAR_DIR to that var/ folder (docs/configuration.md lists every setting).",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())

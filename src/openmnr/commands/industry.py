"""``openmnr industry import PATH... | credentials ...``: bulk import of CyberTipline reports filed
elsewhere, and the /ispws/ credentials of providers. The work is in ``openmnr.industry``."""

import sys

from . import setup_django

HELP = "import CyberTipline reports; issue or revoke provider credentials for /ispws/"


def add_arguments(parser) -> None:
    commands = parser.add_subparsers(dest="industry_command", required=True)
    importing = commands.add_parser(
        "import",
        help="import CyberTipline report XML files (NAME.xml, files in NAME/); idempotent by report id",
    )
    importing.add_argument(
        "paths", nargs="+", metavar="PATH", help="report XML files or folders holding them"
    )
    creds = commands.add_parser("credentials", help="issue, revoke or list /ispws/ credentials")
    action = creds.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--issue", metavar="ACCOUNT", help="issue a credential to this industry member account"
    )
    action.add_argument("--revoke", metavar="USERNAME", help="revoke this credential")
    action.add_argument("--list", action="store_true", help="list credentials (never their passwords)")


def run(args) -> int:
    setup_django()
    if args.industry_command == "import":
        return _import(args.paths)
    return _credentials(args)


def _import(paths) -> int:
    from openmnr.industry.importer import import_paths

    outcomes = import_paths(paths)
    for outcome in outcomes:
        print(f"{outcome.status:8} {outcome.path}: {outcome.message}")
    refused = sum(o.status == "refused" for o in outcomes)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("imported", "skipped", "refused")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 1 if refused or not outcomes else 0


def _credentials(args) -> int:
    from django.contrib.auth import get_user_model

    from openmnr.industry import credentials
    from openmnr.industry.models import Credential

    if args.list:
        for c in Credential.objects.select_related("provider").order_by("created_at"):
            state = f"revoked {c.revoked_at:%Y-%m-%d}" if c.revoked_at else "active"
            print(f"{c.username}\t{c.provider.get_username()}\t{c.created_at:%Y-%m-%d}\t{state}")
        return 0
    if args.revoke:
        credential = Credential.objects.filter(username=args.revoke).first()
        if credential is None:
            print(f"no credential {args.revoke!r}", file=sys.stderr)
            return 2
        credentials.revoke(credential)
        print(f"revoked {credential.username}")
        return 0
    provider = get_user_model().objects.filter(username=args.issue).first()
    if provider is None:
        print(f"no account {args.issue!r}", file=sys.stderr)
        return 2
    try:
        credential, password = credentials.issue(provider)
    except credentials.CredentialError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"username {credential.username}\npassword {password}\n(the password is shown only now)")
    return 0

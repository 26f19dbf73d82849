"""``openmnr urllist``: the reference client on the command line, without a database.

    openmnr urllist check URL... --server https://hotline.example --public-key list.pem
    openmnr urllist expressions URL

``check`` keeps the list in a state file (``--state``, default ``~/.cache/openmnr/urllist.json``),
fetches a diff when the list's minimum wait has passed, tests each URL against the prefixes and
confirms a hit with the server through the blinded exchange, so the server learns only the bucket.
The API key comes from ``OPENMNR_URLLIST_KEY`` (never from the command line, where ``ps`` shows it).
Exit status: 0 none of the URLs is listed, 1 at least one is, 2 the check could not be made.
"""

import argparse
import os
import sys
from pathlib import Path

DEFAULT_STATE = Path.home() / ".cache" / "openmnr" / "urllist.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="urllist_command", required=True)
    check = commands.add_parser("check", help="is this URL on the blocking list? (asks the server privately)")
    check.add_argument("urls", nargs="+", metavar="URL")
    check.add_argument("--server", required=True, help="the OpenMNR server, such as https://hotline.example")
    check.add_argument("--public-key", required=True, help="the list's Ed25519 public key (PEM file)")
    check.add_argument(
        "--state", type=Path, default=DEFAULT_STATE, help="where the list is kept between runs"
    )
    expressions = commands.add_parser(
        "expressions", help="the Safe Browsing expressions a URL is looked up by"
    )
    expressions.add_argument("url", metavar="URL")


def run(args: argparse.Namespace) -> int:
    from .expressions import InvalidURL, expressions

    if args.urllist_command == "expressions":
        try:
            print("\n".join(expressions(args.url)))
        except InvalidURL as error:
            print(f"openmnr urllist: {error}", file=sys.stderr)
            return 2
        return 0
    return _check(args)


def _check(args: argparse.Namespace) -> int:
    from openmnr.core.referral import KeyFileError, load_verify_key

    from .client import HttpTransport, UrlListClient, UrlListError
    from .expressions import InvalidURL
    from .listformat import ListFormatError

    key = os.environ.get("OPENMNR_URLLIST_KEY", "")
    if not key:
        print("openmnr urllist: set OPENMNR_URLLIST_KEY to the licensee's API key", file=sys.stderr)
        return 2
    try:
        public_key = load_verify_key(args.public_key)
        transport = HttpTransport(args.server, key)
        client = None
        if args.state.exists():
            try:
                client = UrlListClient.load(args.state, transport, public_key)
            except (ListFormatError, ValueError, KeyError):
                client = None  # a damaged state file: start again from a snapshot
        client = client or UrlListClient(transport, public_key)
        client.update()
        args.state.parent.mkdir(parents=True, exist_ok=True)
        client.save(args.state)
        listed = False
        for url in args.urls:
            try:
                result = client.check(url)
            except InvalidURL as error:
                print(f"{url}\tnot a web address: {error}")
                continue
            listed |= result.listed
            print(f"{url}\t" + (f"LISTED ({result.expression})" if result.listed else "not listed"))
    except (KeyFileError, UrlListError, ListFormatError, OSError) as error:
        print(f"openmnr urllist: {error}", file=sys.stderr)
        return 2
    return 1 if listed else 0

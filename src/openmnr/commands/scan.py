"""``openmnr scan SOURCE... --out DIR --as ACCOUNT``: hash and match files in bulk on Dask.

SOURCEs are directories, files, zip and tar archives, ``@LIST`` (a file of paths or URLs) and
URLs any fsspec filesystem reads. The scan runs on a local Dask cluster (``--workers N`` worker
processes) or an existing one (``--scheduler tcp://HOST:8786``). Results go to DIR: one row per
file (``results.parquet`` or ``results.csv``), a manifest of finished batches (run the same command
again to continue a scan that was stopped), and ``summary.json``. The bundle the workers match
against is written from the platform's database for ACCOUNT (only banks it may match) into
DIR/bundle, or taken from ``--bundle`` (then no database is needed: a cluster host or an
industry member's pipeline). See docs/scanning.md. Exit status: 0 when every file was scanned,
1 when some were listed with an error, 2 for bad arguments.
"""

import sys

HELP = "hash and match files, archives and object storage against the banks in bulk, on Dask"


def add_arguments(parser) -> None:
    parser.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="directories, files, archives, @LIST or URLs"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for results, manifest and bundle")
    parser.add_argument("--as", dest="account", metavar="ACCOUNT", help="the account whose banks are matched")
    parser.add_argument("--bundle", metavar="DIR", help="an existing scan bundle (no database needed)")
    parser.add_argument("--scheduler", metavar="URL", help="an existing Dask scheduler, tcp://HOST:8786")
    parser.add_argument(
        "--workers", type=int, default=None, help="local worker processes (default: all cores)"
    )
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--batch-files", type=int, default=1024, help="files per task (default 1024)")
    parser.add_argument("--batch-mb", type=float, default=16, help="about this many MB per task (default 16)")
    parser.add_argument(
        "--max-depth", type=int, default=3, help="archives nested deeper are refused (default 3)"
    )
    parser.add_argument(
        "--max-archive-mb", type=float, default=4096, help="what one archive may expand to (default 4096)"
    )
    parser.add_argument("--max-ratio", type=int, default=200, help="largest expansion ratio of a member")
    parser.add_argument("--isolate", action="store_true", help="decode in child processes with limits")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--file-into",
        choices=["industry"],
        help="file the matches into the platform's industry queue for analysts (needs --as)",
    )
    parser.add_argument(
        "--file-unknown",
        action="store_true",
        help="with --file-into, file every picture and video that matched nothing too",
    )


def run(args) -> int:
    import json
    import os
    from pathlib import Path

    from openmnr.core.scan import archives
    from openmnr.core.scan import run as scan_run
    from openmnr.core.scan.worker import Options
    from openmnr.core.signals import Limits

    out = Path(args.out)
    bundle = Path(args.bundle) if args.bundle else out / "bundle"
    if args.file_into and not args.account:
        print("--file-into files for an account: name it with --as ACCOUNT", file=sys.stderr)
        return 2
    if not args.bundle and not (bundle / "bundle.json").exists():
        if not args.account:
            print(
                "name the account whose banks are matched (--as ACCOUNT), or give --bundle DIR",
                file=sys.stderr,
            )
            return 2
        error = _write_bundle(bundle, args.account)
        if error:
            print(error, file=sys.stderr)
            return 2
    elif not (bundle / "bundle.json").exists():
        print(f"{bundle} is not a scan bundle (no bundle.json)", file=sys.stderr)
        return 2
    limits = Limits(isolate=args.isolate)
    caps = archives.Caps(
        max_depth=args.max_depth,
        max_total_bytes=int(args.max_archive_mb * 2**20),
        max_ratio=args.max_ratio,
        max_member_bytes=limits.max_bytes,
    )
    summary = scan_run.scan(
        args.sources,
        out=out,
        bundle=bundle.resolve(),
        fmt=args.format,
        scheduler=args.scheduler,
        workers=args.workers or os.cpu_count() or 1,
        batch_files=args.batch_files,
        batch_bytes=int(args.batch_mb * 2**20),
        options=Options(limits=limits, caps=caps),
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    report = vars(summary)
    if args.file_into:
        filed = _file_into(out, Path(summary.results), args)
        if isinstance(filed, str):
            print(filed, file=sys.stderr)
            return 2
        report["filed"] = filed
    text = json.dumps(report, indent=1)
    (out / "summary.json").write_text(text)
    print(text)
    return 1 if summary.errors else 0


def _file_into(out, results, args) -> dict | str:
    """File the scan's findings into the industry queue; the counts, or why it could not."""
    from . import setup_django

    setup_django()
    from django.contrib.auth import get_user_model

    from openmnr.core.scan import results as scan_results
    from openmnr.industry import services

    user = get_user_model().objects.filter(username=args.account, is_active=True).first()
    if user is None:
        return f"no active account is called {args.account!r}"
    rows = scan_results.read_rows(
        results, lambda row: services.to_file(row, include_unknown=args.file_unknown)
    )
    try:
        filed = services.file_scan(
            list(rows), scan_id=scan_results.scan_id(out), account=user, source=" ".join(args.sources)
        )
    except services.ScanFilingError as exc:
        return f"not filed: {exc}"
    return {
        "files": filed.files,
        "already_filed": filed.already,
        "reports": filed.reports,
        "cases": filed.cases,
    }


def _write_bundle(folder, account: str) -> str:
    from . import setup_django

    setup_django()
    from django.contrib.auth import get_user_model

    from openmnr.banks import services

    user = get_user_model().objects.filter(username=account, is_active=True).first()
    if user is None:
        return f"no active account is called {account!r}"
    try:
        services.write_scan_bundle(folder, user=user)
    except services.NotAllowed as exc:
        return f"{account}: {exc}"
    return ""

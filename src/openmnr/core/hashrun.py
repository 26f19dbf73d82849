"""The work behind ``openmnr hash PATH...``: hash files and directories, one JSON line per file.

Each line holds the file's ``path``, its ``content_type`` ("photo" or "video") and the requested
signals that apply to it, as ``openmnr.core.signals.hash_path`` computes them (for a picture
``pdq``, ``pdq_quality``, ``pdq_low_quality``, ``md5``, ``sha256``; for a video ``md5``,
``sha256`` and ``vpdq`` frames; a signal type added to the registry appears by itself), or
``{"path": ..., "error": ...}`` when the file cannot be hashed; one bad file never stops the run.
The exit code is 0 when every file was hashed, 1 otherwise, 2 for bad arguments.

The command line itself is ``openmnr.commands.hash``, which calls ``add_arguments`` and ``run``.
"""

import argparse
import json
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from tqdm import tqdm

from openmnr.core import media, signals
from openmnr.core.signals import ContentType, Limits
from openmnr.core.signals.pdq import MODES

# The progress bar appears only once a run has taken this long (and only on a terminal).
PROGRESS_DELAY = 3.0


def signal_names() -> tuple[str, ...]:
    """The signal types of files (those of pictures and videos), in registry order."""
    return tuple(cls.name for cls in signals.for_content(ContentType.PHOTO, ContentType.VIDEO))


@dataclass(frozen=True)
class Options:
    signals: tuple[str, ...]
    limits: Limits


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``openmnr hash`` on ``parser``."""
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="files or directories (searched recursively)"
    )
    parser.add_argument(
        "--signals",
        default=",".join(signal_names()),
        help=f"comma-separated signal types to compute (default: {','.join(signal_names())})",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="fast",
        help="PDQ mode: fast (reduced-scale decode, default) or reference (bit-identical to pdqhash)",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)"
    )
    parser.add_argument(
        "--per-second",
        type=float,
        default=None,
        metavar="N",
        help="hash about N video frames per second (default: every frame)",
    )
    parser.add_argument(
        "--isolate",
        action="store_true",
        help="decode each file in a child process with memory and time limits (for untrusted input)",
    )


def run(args: argparse.Namespace) -> int:
    """Hash every file under ``args.paths``, writing JSON lines to stdout; return the exit code."""
    names = tuple(name.strip() for name in args.signals.split(",") if name.strip())
    known = signal_names()
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        print(
            f"openmnr hash: unknown signal type(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(known)}",
            file=sys.stderr,
        )
        return 2
    if args.jobs < 1:
        print("openmnr hash: --jobs must be at least 1", file=sys.stderr)
        return 2
    if args.per_second is not None and args.per_second <= 0:
        print("openmnr hash: --per-second must be positive", file=sys.stderr)
        return 2
    limits = Limits(isolate=args.isolate, mode=args.mode, per_second=args.per_second)
    options = Options(names, limits)
    paths = list(_files(args.paths))
    all_hashed = True
    with tqdm(
        total=len(paths), unit="file", file=sys.stderr, delay=PROGRESS_DELAY, disable=not sys.stderr.isatty()
    ) as progress:
        for record in _hash_all(paths, options, args.jobs):
            all_hashed &= "error" not in record
            sys.stdout.write(json.dumps(record) + "\n")
            progress.update()
    sys.stdout.flush()
    return 0 if all_hashed else 1


def _files(arguments: list[str]) -> Iterator[str]:
    """Each file named, and every file under each directory named, in a stable order."""
    for argument in arguments:
        if os.path.isdir(argument):
            for folder, subfolders, names in os.walk(argument):
                subfolders.sort()
                for name in sorted(names):
                    yield os.path.join(folder, name)
        else:
            yield argument


def _hash_all(paths: list[str], options: Options, jobs: int) -> Iterator[dict]:
    """Records in the order of ``paths``, hashed in ``jobs`` worker processes."""
    if jobs == 1 or len(paths) < 2:
        yield from (hash_file(path, options) for path in paths)
        return
    context = multiprocessing.get_context("forkserver")
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=context) as pool:
            for record in pool.map(hash_file, paths, [options] * len(paths), chunksize=4):
                done += 1
                yield record
    except BrokenProcessPool:
        message = "a hashing worker crashed on one of these files; rerun with --isolate"
        yield from ({"path": path, "error": message} for path in paths[done:])


def hash_file(path: str, options: Options) -> dict:
    """Hash one file into its output record (never raises for a bad file)."""
    try:
        try:
            hashes = signals.hash_path(path, limits=options.limits, only=options.signals).raise_for_error()
        except media.UnsupportedFormat:
            if any(signals.get(name).decodes for name in options.signals):
                raise
            # Digests need no decoding: with only those asked for, any file is hashed.
            return {"path": path, "content_type": None, **_digests(path, options)}
        return {"path": path, "content_type": hashes.content_type.value, **_fields(hashes)}
    except media.MediaError as exc:
        return {"path": path, "error": str(exc)}
    except IsADirectoryError:
        return {"path": path, "error": "is a directory"}
    except FileNotFoundError:
        return {"path": path, "error": "no such file"}
    except PermissionError:
        return {"path": path, "error": "permission denied"}
    except OSError as exc:
        return {"path": path, "error": f"cannot read the file ({exc.strerror or exc})"}


def _fields(hashes: signals.Hashes) -> dict:
    """The output fields of each signal: its value (as JSON shows it) and, for a signal type that
    grades its hashes, ``<name>_quality`` and ``<name>_low_quality``."""
    record = {}
    for name, hashed in hashes.items():
        signal = signals.get(name)
        record[name] = signal.json_value(hashed.value)
        if signal.quality_threshold is not None:
            record[f"{name}_quality"] = hashed.quality
            record[f"{name}_low_quality"] = hashed.low_quality
    return record


def _digests(path: str, options: Options) -> dict:
    """Digests of a file of any content, read in a stream."""
    names = [name for name in signal_names() if name in options.signals]
    return {name: signals.get(name).hash_file(path, limits=options.limits).value for name in names}


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m openmnr.core.hashrun``), used by tests and benchmarks."""
    parser = argparse.ArgumentParser(prog="openmnr hash", description="Hash images and videos.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    from openmnr.core.hashrun import main as package_main  # so workers unpickle the package's functions

    sys.exit(package_main())

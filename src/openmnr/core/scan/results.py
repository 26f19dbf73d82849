"""Where a scan's rows go: part files of finished batches, a manifest, and the merged results.

``OUT/parts/<batch id>.arrow`` (an Arrow IPC file, cheap to write and to read back) holds a batch's
rows, written by the worker that scanned it (``write_part``), or, for a worker that cannot see
OUT, by the driver (``Output.write_batches``). A part is written whole (to
a temporary name, then renamed) before its batches' lines are appended to ``OUT/manifest.jsonl``
by the driver, a group of batches at a time and flushed to disk. So after a kill at any moment, a
batch is either in the manifest with its complete part, or not in it and scanned again (a part no
line names is ignored, and replaced when its batch is written again): no file is reported twice
and none is lost. At the end, ``OUT/results.parquet`` (or ``.csv``) is the parts merged in the
order batches finished, streamed so that a scan of millions of files never holds its results in
memory. (Parts written by an earlier version, ``.parquet`` or ``.csv``, are read too.)
"""

import functools
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from .worker import COLUMNS, Done

SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("size", pa.int64()),
        ("content_type", pa.string()),
        ("pdq", pa.string()),
        ("pdq_quality", pa.int32()),
        ("md5", pa.string()),
        ("sha256", pa.string()),
        ("match", pa.bool_()),
        ("action", pa.string()),
        ("banks", pa.string()),
        ("entries", pa.string()),
        ("distance", pa.int32()),
        ("error_kind", pa.string()),
        ("error", pa.string()),
    ]
)
assert tuple(SCHEMA.names) == COLUMNS

FORMATS = ("parquet", "csv")


class Output:
    def __init__(self, folder: Path, fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"the output format is one of {', '.join(FORMATS)}")
        self.folder, self.fmt = Path(folder), fmt
        self.parts = self.folder / "parts"
        self.parts.mkdir(parents=True, exist_ok=True)
        self.manifest = self.folder / "manifest.jsonl"
        self.scan_id = scan_id(self.folder)
        self._repair()

    def _repair(self) -> None:
        """Cut a line torn by a kill mid-write, so the next line does not join it and get lost."""
        if not self.manifest.exists():
            return
        data = self.manifest.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.manifest.open("r+b") as manifest:
                manifest.truncate(data.rfind(b"\n") + 1)

    def finished(self, batches: set[str] | None = None) -> dict[str, dict]:
        """The batches the manifest lists as finished, by id (a torn last line is ignored).

        With `batches` (the ids this run's listing made), only those, and only those whose part
        holds no other batch: a manifest can name batches the listing no longer makes (the sources
        changed between two runs, or the batch size did: another ``--batch-files``, another
        version's default). Their files are in this run's batches and scanned again, so their old
        rows must not be merged: no file is reported twice. (Parts hold one batch each now;
        several, in scans begun by an earlier version.)"""
        done = {}
        if self.manifest.exists():
            for line in self.manifest.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if (self.folder / entry["part"]).exists():
                    done[entry["batch"]] = entry
        if batches is not None:
            stale = {entry["part"] for batch, entry in done.items() if batch not in batches}
            done = {
                batch: entry
                for batch, entry in done.items()
                if batch in batches and entry["part"] not in stale
            }
        return done

    def write_batch(self, batch_id: str, files: int, rows: list[dict]) -> dict:
        """Write one batch's rows (its own part): ``write_batches`` for a single batch."""
        kinds: dict[str, int] = {}
        for row in rows:
            if row["error_kind"]:
                kinds[row["error_kind"]] = kinds.get(row["error_kind"], 0) + 1
        matches = sum(1 for row in rows if row["match"])
        done = Done(batch_id, files, table_of(rows), len(rows), matches, kinds)
        return self.write_batches([done])[0]

    def write_batches(self, done: list[Done]) -> list[dict]:
        """Record finished batches: the part of each whose worker did not write it (its rows
        sent as ``Done.table``), then every batch's line in the manifest with one flush to disk;
        return those lines.

        One flush for many batches: an fsync per batch costs the driver, whose core the workers
        need, and only delays what a kill would have lost anyway (a kill between a part and the
        manifest leaves a part no line names: ignored, and replaced when its batch is written
        again; never a line without its part)."""
        if not done:
            return []
        entries = [
            {
                "batch": d.batch_id,
                "files": d.files,
                "rows": d.rows,
                "matches": d.matches,
                "errors": sum(d.errors_by_kind.values()),
                "part": d.part if d.table is None else write_part(self.folder, d.batch_id, d.table),
            }
            for d in done
        ]
        with self.manifest.open("a", encoding="utf-8") as manifest:
            manifest.write("".join(json.dumps(entry) + "\n" for entry in entries))
            manifest.flush()
            os.fsync(manifest.fileno())
        return entries

    def merge(self, batches: set[str] | None = None) -> Path:
        """Write ``results.<fmt>`` from the parts of the finished batches (of `batches` only,
        when given: see ``finished``); return its path. Parts are gathered into groups of
        ``MERGE_ROWS`` rows (a Parquet row group each): a small group per part doubles the
        merge's CPU and the file's size."""
        target = self.folder / f"results.{self.fmt}"
        partial = target.with_suffix(target.suffix + ".partial")
        parts = list(dict.fromkeys(entry["part"] for entry in self.finished(batches).values()))
        if self.fmt == "parquet":
            writer = pq.ParquetWriter(partial, SCHEMA)
        else:
            writer = pacsv.CSVWriter(partial, SCHEMA)
        with writer:
            group: list[pa.Table] = []
            rows = 0
            for part in parts:
                table = read_part(self.folder / part)
                group.append(table)
                rows += table.num_rows
                if rows >= MERGE_ROWS:
                    writer.write_table(pa.concat_tables(group))
                    group, rows = [], 0
            if group or not parts:
                writer.write_table(pa.concat_tables(group) if group else SCHEMA.empty_table())
        os.replace(partial, target)
        return target


#: Rows merged and written together (a Parquet row group).
MERGE_ROWS = 65536


def write_part(folder: str | Path, stem: str, table: pa.Table) -> str:
    """Write `table` as ``parts/<stem>.arrow`` under `folder`, whole or not at all (a temporary
    name of this process's own, then a rename: two runs of the same batch, on a worker taken for
    dead and on another, each leave a complete part); return its name relative to `folder`."""
    parts = Path(folder) / "parts"
    part = parts / f"{stem}.arrow"
    partial = parts / f"{stem}.{os.getpid()}-{secrets.token_hex(4)}.partial"
    try:
        with pa.OSFile(str(partial), "wb") as sink, ipc.new_file(sink, SCHEMA) as writer:
            writer.write_table(table)
        os.replace(partial, part)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return f"parts/{part.name}"


def read_part(path: Path) -> pa.Table:
    """A part's rows, whatever version wrote it (Arrow IPC now; Parquet or CSV before)."""
    if path.suffix == ".arrow":
        with pa.OSFile(str(path)) as source:
            return ipc.open_file(source).read_all()
    if path.suffix == ".parquet":
        return pq.read_table(path, schema=SCHEMA)
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=SCHEMA))


@functools.cache
def sees(folder: str, scan_id_value: str) -> bool:
    """Whether this process sees the scan's folder `folder` (its ``scan-id`` holds `scan_id_value`):
    true for the workers of a local cluster and of hosts that mount it at the same path. Asked
    once per process and scan."""
    try:
        return (Path(folder) / SCAN_ID_FILE).read_text().strip() == scan_id_value
    except OSError:
        return False


def table_of(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


SCAN_ID_FILE = "scan-id"


def scan_id(folder: Path) -> str:
    """The scan's id, made when the scan first writes to `folder` and read back by every continued
    run: what makes filing the findings into the platform idempotent (``--file-into``)."""
    path = Path(folder) / SCAN_ID_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(secrets.token_hex(12))
        os.replace(partial, path)
    return path.read_text().strip()


def read_rows(results: Path, keep: Callable[[dict], bool]) -> Iterator[dict]:
    """The rows of a merged results file for which `keep` is true, read a record batch at a time
    (a scan of millions of files is never held in memory; only the kept rows are)."""
    results = Path(results)
    if results.suffix == ".parquet":
        batches = pq.ParquetFile(results).iter_batches(batch_size=65536)
    else:
        batches = pacsv.open_csv(results, convert_options=pacsv.ConvertOptions(column_types=SCHEMA))
    for batch in batches:
        for row in batch.to_pylist():
            if keep(row):
                yield row

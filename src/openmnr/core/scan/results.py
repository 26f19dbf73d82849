"""Where a scan's rows go: part files of finished batches, a manifest, and the merged results.

``OUT/parts/<first batch id>.parquet`` (or ``.csv``) holds one or more finished batches (written
together, see ``Output.write_batches``); it is written whole (to a temporary name, then renamed)
before its batches' lines are appended to ``OUT/manifest.jsonl`` and flushed to disk. So after a
kill at any moment, a batch is either in the manifest with its complete part, or not in it and
scanned again (a part no line names is ignored): no file is reported twice and none is lost. At the
end, ``OUT/results.parquet`` (or ``.csv``) is the parts merged in the order batches finished,
streamed so that a scan of millions of files never holds its results in memory.
"""

import csv
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .worker import COLUMNS

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

    def finished(self) -> dict[str, dict]:
        """The batches the manifest lists as finished, by id (a torn last line is ignored)."""
        done = {}
        if self.manifest.exists():
            for line in self.manifest.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if (self.folder / entry["part"]).exists():
                    done[entry["batch"]] = entry
        return done

    def write_batch(self, batch_id: str, files: int, rows: list[dict]) -> dict:
        """Write one batch's rows (its own part): ``write_batches`` for a single batch."""
        kinds: dict[str, int] = {}
        for row in rows:
            if row["error_kind"]:
                kinds[row["error_kind"]] = kinds.get(row["error_kind"], 0) + 1
        matches = sum(1 for row in rows if row["match"])
        return self.write_batches([(batch_id, files, table_of(rows), matches, kinds)])[0]

    def write_batches(self, done: list[tuple[str, int, pa.Table, int, dict]]) -> list[dict]:
        """Write finished batches (id, files, table, matches, errors by kind) as ONE part, then
        their lines in the manifest with one flush to disk; return those lines.

        One part for several batches: a part and an fsync per batch of small files cost the
        driver more than the batch's files cost it otherwise, and a driver that keeps a core busy
        takes it from the workers. A kill between the part and the manifest leaves a part no line
        names (ignored, and replaced when its first batch is written again), never a line
        without its part."""
        if not done:
            return []
        table = pa.concat_tables([item[2] for item in done]) if len(done) > 1 else done[0][2]
        part = self.parts / f"{done[0][0]}.{self.fmt}"
        partial = part.with_suffix(part.suffix + ".partial")
        if self.fmt == "parquet":
            pq.write_table(table, partial)
        else:
            pacsv.write_csv(table, partial)
        os.replace(partial, part)
        name = str(part.relative_to(self.folder))
        entries = [
            {
                "batch": batch_id,
                "files": files,
                "rows": batch_table.num_rows,
                "matches": matches,
                "errors": sum(kinds.values()),
                "part": name,
            }
            for batch_id, files, batch_table, matches, kinds in done
        ]
        with self.manifest.open("a", encoding="utf-8") as manifest:
            manifest.write("".join(json.dumps(entry) + "\n" for entry in entries))
            manifest.flush()
            os.fsync(manifest.fileno())
        return entries

    def merge(self) -> Path:
        """Write ``results.<fmt>`` from the parts the manifest lists; return its path."""
        target = self.folder / f"results.{self.fmt}"
        partial = target.with_suffix(target.suffix + ".partial")
        parts = list(dict.fromkeys(entry["part"] for entry in self.finished().values()))
        if self.fmt == "parquet":
            with pq.ParquetWriter(partial, SCHEMA) as writer:
                for part in parts:
                    writer.write_table(pq.read_table(self.folder / part, schema=SCHEMA))
        else:
            with partial.open("w", newline="", encoding="utf-8") as out:
                header = False
                for name in parts:
                    with (self.folder / name).open(encoding="utf-8", newline="") as part:
                        first = next(part, "")  # each part has its own header: written once
                        if not header:
                            out.write(first)
                            header = True
                        for line in part:
                            out.write(line)
                if not header:
                    csv.writer(out).writerow(COLUMNS)
        os.replace(partial, target)
        return target


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

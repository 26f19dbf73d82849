"""Where a scan's rows go: one part file per finished batch, a manifest, and the merged results.

``OUT/parts/<batch id>.parquet`` (or ``.csv``) is written whole (to a temporary name, then renamed)
before the batch's line is appended to ``OUT/manifest.jsonl`` and flushed to disk. So after a kill
at any moment, a batch is either in the manifest with its complete part, or not in it and scanned
again (its half-written part, if any, replaced): no file is reported twice and none is lost. At the
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
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        part = self.parts / f"{batch_id}.{self.fmt}"
        partial = part.with_suffix(part.suffix + ".partial")
        if self.fmt == "parquet":
            pq.write_table(table, partial)
        else:
            pacsv.write_csv(table, partial)
        os.replace(partial, part)
        entry = {
            "batch": batch_id,
            "files": files,
            "rows": len(rows),
            "matches": sum(1 for row in rows if row["match"]),
            "errors": sum(1 for row in rows if row["error_kind"]),
            "part": str(part.relative_to(self.folder)),
        }
        with self.manifest.open("a", encoding="utf-8") as manifest:
            manifest.write(json.dumps(entry) + "\n")
            manifest.flush()
            os.fsync(manifest.fileno())
        return entry

    def merge(self) -> Path:
        """Write ``results.<fmt>`` from the parts the manifest lists; return its path."""
        target = self.folder / f"results.{self.fmt}"
        partial = target.with_suffix(target.suffix + ".partial")
        entries = list(self.finished().values())
        if self.fmt == "parquet":
            with pq.ParquetWriter(partial, SCHEMA) as writer:
                for entry in entries:
                    writer.write_table(pq.read_table(self.folder / entry["part"], schema=SCHEMA))
        else:
            with partial.open("w", newline="", encoding="utf-8") as out:
                header = False
                for entry in entries:
                    with (self.folder / entry["part"]).open(encoding="utf-8", newline="") as part:
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

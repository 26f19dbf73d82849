"""Bulk scans, one batch at a time (no Dask): what each file becomes in the results, bad ones
included. The Dask runs (resume, a killed worker, a cluster of processes) are in test_scan_cluster.py."""

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from openmnr.core.scan import archives, sources, worker
from openmnr.core.scan.worker import Options
from scanbundle import make_bundle


@pytest.fixture
def corpus(shared) -> list[Path]:
    return sorted((shared / "corpus" / "natural").glob("*.jpg"))


@pytest.fixture
def bundle(tmp_path, corpus) -> str:
    return str(make_bundle(tmp_path / "b", corpus[:3], hidden=corpus[3:5]))


def _scan(paths, bundle, options=None) -> dict[str, dict]:
    items = list(sources.list_items([str(p) for p in paths]))
    rows = []
    for batch in sources.batches(items, max_files=7, max_bytes=2**30):
        rows += worker.scan_batch(batch, bundle, options or Options())
    by_path = {row["path"]: row for row in rows}
    assert len(by_path) == len(rows), "a file was reported twice"
    return by_path


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_known_files_match_their_bank_and_hidden_banks_stay_silent(tmp_path, corpus, bundle):
    tree = tmp_path / "tree"
    tree.mkdir()
    for path in corpus[:8]:
        shutil.copy(path, tree / path.name)
    rows = _scan([tree], bundle)
    assert len(rows) == 8
    known = {str(tree / p.name) for p in corpus[:3]}
    matched = {path for path, row in rows.items() if row["match"]}
    assert matched == known  # corpus[3:5] are in a bank the account may not see
    row = rows[str(tree / corpus[0].name)]
    assert row["banks"] == "Known" and row["action"] == "confirmed_csam" and row["distance"] == 0
    assert row["entries"] == "100" and row["content_type"] == "photo" and len(row["md5"]) == 32
    hidden = rows[str(tree / corpus[3].name)]
    assert hidden["banks"] is None and hidden["entries"] is None and hidden["action"] is None


def test_archives_are_opened_members_matched_and_bombs_and_deep_nests_refused(tmp_path, corpus, bundle):
    known = corpus[0].read_bytes()
    inner = _zip({"inside/known.jpg": known})
    deep = known
    for level in range(5):
        deep = _zip({f"level{level}.zip" if level else "known.jpg": deep})
    bomb = _zip({"zeros.bin": b"\0" * (60 * 2**20)}, zipfile.ZIP_DEFLATED)
    (tmp_path / "nested.zip").write_bytes(_zip({"a.zip": inner, "notes.txt": b"hello"}))
    (tmp_path / "deep.zip").write_bytes(deep)
    (tmp_path / "bomb.zip").write_bytes(bomb)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + os.urandom(200))
    caps = archives.Caps(max_depth=3, max_member_bytes=50 * 2**20)
    rows = _scan(
        [tmp_path / "nested.zip", tmp_path / "deep.zip", tmp_path / "bomb.zip", tmp_path / "broken.zip"],
        bundle,
        Options(caps=caps),
    )
    member = rows[f"{tmp_path}/nested.zip!/a.zip!/inside/known.jpg"]
    assert member["match"] and member["banks"] == "Known"
    assert rows[f"{tmp_path}/nested.zip!/notes.txt"]["error_kind"] == "unsupported_format"
    too_deep = [row for path, row in rows.items() if path.startswith(f"{tmp_path}/deep.zip")]
    assert [row["error_kind"] for row in too_deep] == ["archive_too_deep"]
    assert rows[f"{tmp_path}/bomb.zip!/zeros.bin"]["error_kind"] == "archive_too_large"
    assert rows[f"{tmp_path}/broken.zip"]["error_kind"] == "bad_archive"


def test_tar_archives_and_their_total_size_cap(tmp_path, corpus, bundle):
    import tarfile

    with tarfile.open(tmp_path / "photos.tar.gz", "w:gz") as archive:
        for path in corpus[:4]:
            archive.add(path, arcname=f"photos/{path.name}")
    rows = _scan([tmp_path / "photos.tar.gz"], bundle)
    assert sum(row["match"] for row in rows.values()) == 3 and len(rows) == 4
    small = Options(caps=archives.Caps(max_total_bytes=corpus[0].stat().st_size + 10))
    capped = _scan([tmp_path / "photos.tar.gz"], bundle, small)
    assert capped[f"{tmp_path}/photos.tar.gz"]["error_kind"] == "archive_too_large"
    assert len(capped) == 2  # the first member, then the cap: the rest is not expanded


def test_links_that_loop_or_lead_nowhere_are_listed_and_the_scan_goes_on(tmp_path, corpus, bundle):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    shutil.copy(corpus[0], tree / "sub" / "known.jpg")
    (tree / "sub" / "up").symlink_to(tree)  # a loop back to an ancestor
    (tree / "self").symlink_to(tree / "self")  # a link to itself
    (tree / "gone").symlink_to(tmp_path / "nothing-here")
    (tree / "text.txt").write_text("not a picture")
    (tree / "empty.jpg").write_bytes(b"")
    rows = _scan([tree, tmp_path / "missing-source"], bundle)
    kinds = {Path(path).name: row["error_kind"] for path, row in rows.items()}
    assert kinds == {
        "known.jpg": "",
        "up": "symlink_loop",
        "self": "symlink_loop",
        "gone": "unreadable",
        "text.txt": "unsupported_format",
        "empty.jpg": "corrupt_media",
        "missing-source": "unreadable",
    }
    assert rows[str(tree / "sub" / "known.jpg")]["match"]
    assert all(row["error"] for row in rows.values() if row["error_kind"])


def test_a_file_that_changes_while_read_is_reported_without_hashes(tmp_path, corpus, bundle, monkeypatch):
    target = tmp_path / "growing.jpg"
    shutil.copy(corpus[0], target)
    original = worker._Guarded.read

    def read_then_append(self, size=-1):
        data = original(self, size)
        if size != 512:  # the whole read, after the look at the first bytes
            with target.open("ab") as file:
                file.write(b"more")
        return data

    monkeypatch.setattr(worker._Guarded, "read", read_then_append)
    row = _scan([target], bundle)[str(target)]
    assert row["error_kind"] == "changed_while_read"
    assert row["md5"] is None and row["pdq"] is None and not row["match"]


def test_batches_are_the_same_for_the_same_files(tmp_path, corpus):
    first = [
        b.id
        for b in sources.batches(sources.list_items([str(corpus[0].parent)]), max_files=10, max_bytes=2**30)
    ]
    again = [
        b.id
        for b in sources.batches(sources.list_items([str(corpus[0].parent)]), max_files=10, max_bytes=2**30)
    ]
    assert first == again and len(set(first)) == len(first) > 1


def test_the_last_batches_are_cut_smaller_and_every_file_is_in_one_batch():
    items = [sources.Item(f"f{n:03d}", 10) for n in range(100)]
    cut = list(sources.batches(items, max_files=10, max_bytes=2**30))
    sizes = [len(batch.items) for batch in cut]
    # 8 batches of 10, then the last two batches' 20 files in quarters (10 // 4 = 2 files each)
    assert sizes == [10] * 8 + [2] * 10
    assert [item for batch in cut for item in batch.items] == items
    by_bytes = list(sources.batches(items, max_files=100, max_bytes=100))
    assert [len(batch.items) for batch in by_bytes] == [10] * 8 + [2] * 10


def test_a_list_of_paths_and_urls(tmp_path, corpus, bundle):
    import fsspec

    memory = fsspec.filesystem("memory")
    memory.pipe("/scan-test/known.jpg", corpus[1].read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_text(f"# paths and URLs\n{corpus[2]}\nmemory://scan-test\n")
    rows = _scan([f"@{listing}"], bundle)
    assert rows[str(corpus[2])]["match"]
    assert rows["memory:///scan-test/known.jpg"]["match"]


def test_a_manifest_line_torn_by_a_kill_does_not_swallow_the_next(tmp_path):
    from openmnr.core.scan.results import Output

    output = Output(tmp_path, "csv")
    output.write_batch("first", 1, [worker._error_row("a", 0, "unreadable", "x")])
    with output.manifest.open("a") as manifest:
        manifest.write('{"batch": "torn", "fi')  # the kill came here
    again = Output(tmp_path, "csv")
    again.write_batch("second", 1, [worker._error_row("b", 0, "unreadable", "y")])
    assert set(again.finished()) == {"first", "second"}
    merged = again.merge().read_text().splitlines()
    assert len(merged) == 3 and merged[0].startswith('"path"')


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_batches_written_together_are_each_finished_and_merged_once(tmp_path, fmt):
    from openmnr.core.scan.results import Output, read_rows, table_of

    output = Output(tmp_path, fmt)
    rows = {
        name: [worker._error_row(f"{name}/{n}", 0, "unreadable", "x") for n in range(3)] for name in "abc"
    }
    output.write_batches(
        [worker.Done(name, 3, table_of(rows[name]), 3, 0, {"unreadable": 3}) for name in "ab"]
    )
    (tmp_path / "parts" / "c.arrow").write_text("a part the kill left without its manifest line")
    again = Output(tmp_path, fmt)  # a continued run: a and b are finished, c is not
    assert set(again.finished()) == {"a", "b"}
    again.write_batches([worker.Done("c", 3, table_of(rows["c"]), 3, 0, {"unreadable": 3})])
    merged = [row["path"] for row in read_rows(again.merge(), lambda row: True)]
    assert sorted(merged) == sorted(row["path"] for name in "abc" for row in rows[name])


def test_a_worker_that_sees_the_scan_folder_writes_the_part_and_one_that_does_not_sends_rows(
    tmp_path, corpus, bundle
):
    from openmnr.core.scan.results import Output, read_rows

    output = Output(tmp_path / "out", "parquet")
    items = list(sources.list_items([str(p) for p in corpus[:4]]))
    first, second = sources.Batch("first", tuple(items[:2])), sources.Batch("second", tuple(items[2:]))
    folder = str(output.folder.resolve())
    written = worker.scan_batch_part(first, bundle, Options(), folder, output.scan_id)
    assert written.table is None and (output.folder / written.part).exists() and written.matches == 2
    # Another folder at the same path (a host that does not mount the scan's): the rows travel.
    sent = worker.scan_batch_part(second, bundle, Options(), folder, "another scan")
    assert sent.part == "" and sent.table.num_rows == 2
    output.write_batches([written, sent])
    assert set(Output(output.folder, "parquet").finished()) == {first.id, second.id}
    merged = [row["path"] for row in read_rows(output.merge(), lambda row: True)]
    assert sorted(merged) == sorted(str(p) for p in corpus[:4])


def test_a_batch_pickles_as_columns_and_comes_back_the_same():
    import pickle

    from openmnr.core.scan.errors import Unreadable

    plain = sources.Batch("a", (sources.Item("x.jpg", 3), sources.Item("y.jpg", 4)))
    failed = sources.Batch("b", (sources.Item("x.jpg", 3), sources.failed("z", Unreadable("gone"))))
    for batch in (plain, failed):
        assert pickle.loads(pickle.dumps(batch)) == batch


def test_batches_of_an_earlier_listing_are_not_merged_and_their_files_scanned_again(tmp_path):
    """A continued scan whose listing cut other batches (the sources changed, or the batch size
    did): the manifest's batches this listing does not make are left out of the results, and so
    is a finished batch whose part (written by an earlier version, several batches a part) also
    holds one of them; its files are scanned again. No file is reported twice."""
    import pyarrow.parquet as pq

    from openmnr.core.scan.results import Output, read_rows, table_of

    output = Output(tmp_path, "parquet")
    rows = {
        name: [worker._error_row(f"{name}/{n}", 0, "unreadable", "x") for n in range(2)] for name in "abcd"
    }
    # An earlier version's part of two batches, a and b; then c in a part of its own.
    pq.write_table(table_of(rows["a"] + rows["b"]), tmp_path / "parts" / "a.parquet")
    with output.manifest.open("a") as manifest:
        for name in "ab":
            manifest.write(f'{{"batch": "{name}", "files": 2, "rows": 2, "matches": 0, "errors": 2, ')
            manifest.write('"part": "parts/a.parquet"}\n')
    output.write_batches([worker.Done("c", 2, table_of(rows["c"]), 2, 0, {"unreadable": 2})])
    assert set(output.finished()) == {"a", "b", "c"}
    current = {"a", "c", "d"}  # this listing no longer makes b
    assert set(output.finished(current)) == {"c"}  # a shares its part with b: scanned again
    output.write_batches(
        [worker.Done(name, 2, table_of(rows[name]), 2, 0, {"unreadable": 2}) for name in "ad"]
    )
    merged = [row["path"] for row in read_rows(output.merge(current), lambda row: True)]
    assert sorted(merged) == sorted(row["path"] for name in "acd" for row in rows[name])

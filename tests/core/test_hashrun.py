"""`openmnr hash`: one JSON line per file, errors that do not stop the run, exit codes."""

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from openmnr.core import hashrun
from openmnr.core.signals import pdq

JPEG = "vectors/pdq/images/bridge-mods/aaa-orig.jpg"
VIDEO = "vectors/pdq/video/test-padded-dimensions.mp4"


def hash_command(capsys, *argv: str) -> tuple[int, list[dict]]:
    code, records, _ = hash_command_with_errors(capsys, *argv)
    return code, records


def hash_command_with_errors(capsys, *argv: str) -> tuple[int, list[dict], str]:
    parser = argparse.ArgumentParser()
    hashrun.add_arguments(parser)
    code = hashrun.run(parser.parse_args(list(argv)))
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


@pytest.fixture
def folder(shared, tmp_path):
    """Two photos and a video (one in a subfolder): everything here can be hashed."""
    shutil.copy(shared / JPEG, tmp_path / "photo.jpg")
    shutil.copy(shared / "vectors/pdq/images/misc/c.png", tmp_path / "drawing.png")
    (tmp_path / "clips").mkdir()
    shutil.copy(shared / VIDEO, tmp_path / "clips" / "clip.mp4")
    return tmp_path


def test_every_file_of_a_folder_gets_a_line(folder, shared, capsys):
    code, records = hash_command(capsys, str(folder), "--jobs", "1")
    assert code == 0
    by_name = {record["path"].rsplit("/", 1)[-1]: record for record in records}
    assert sorted(by_name) == ["clip.mp4", "drawing.png", "photo.jpg"]
    photo = by_name["photo.jpg"]
    data = (shared / JPEG).read_bytes()
    assert photo["content_type"] == "photo"
    assert photo["md5"] == hashlib.md5(data).hexdigest()
    assert photo["sha256"] == hashlib.sha256(data).hexdigest()
    assert photo["pdq"] == pdq.hash_media(data).value and photo["pdq_quality"] == 100
    assert photo["pdq_low_quality"] is False
    clip = by_name["clip.mp4"]
    assert clip["content_type"] == "video" and "pdq" not in clip
    assert clip["md5"] == hashlib.md5((shared / VIDEO).read_bytes()).hexdigest()
    assert len(clip["vpdq"]) == 150 and clip["vpdq"][0]["number"] == 0


def test_bad_files_get_an_error_and_the_run_goes_on(folder, capsys):
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not a picture")
    (folder / "cut.jpg").write_bytes((folder / "photo.jpg").read_bytes()[:5000])
    tiff = io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiff, "TIFF")
    (folder / "scan.tif").write_bytes(tiff.getvalue())
    code, records = hash_command(capsys, str(folder), str(folder / "missing.jpg"), "--jobs", "1")
    assert code == 1
    errors = {record["path"].rsplit("/", 1)[-1]: record["error"] for record in records if "error" in record}
    assert errors == {
        "empty.jpg": "the file is empty",
        "notes.txt": "not an image in an accepted format (JPEG, PNG, WebP, GIF, BMP)",
        "cut.jpg": errors["cut.jpg"],
        "scan.tif": "TIFF files are not accepted; send JPEG, PNG, WebP, GIF or BMP",
        "missing.jpg": "no such file",
    }
    assert "truncated" in errors["cut.jpg"]
    assert len(records) == 8 and sum("pdq" in record for record in records) == 2


def test_digests_alone_need_no_decoding(folder, capsys):
    (folder / "notes.txt").write_text("not a picture")
    code, records = hash_command(capsys, str(folder / "notes.txt"), "--signals", "md5,sha256")
    assert code == 0
    assert records == [
        {
            "path": str(folder / "notes.txt"),
            "content_type": None,
            "md5": hashlib.md5(b"not a picture").hexdigest(),
            "sha256": hashlib.sha256(b"not a picture").hexdigest(),
        }
    ]


def test_reference_mode_and_signal_choice(folder, shared, capsys):
    code, records = hash_command(capsys, str(folder / "photo.jpg"), "--mode", "reference", "--signals", "pdq")
    assert code == 0
    expected = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"  # expected.csv
    assert records == [
        {
            "path": str(folder / "photo.jpg"),
            "content_type": "photo",
            "pdq": expected,
            "pdq_quality": 100,
            "pdq_low_quality": False,
        }
    ]


@pytest.mark.slow
def test_several_workers_give_the_same_output_in_the_same_order(folder, capsys):
    (folder / "empty.jpg").write_bytes(b"")
    _, alone = hash_command(capsys, str(folder), "--jobs", "1", "--per-second", "2")
    _, together = hash_command(capsys, str(folder), "--jobs", "2", "--per-second", "2")
    assert together == alone and len(alone) == 4


def test_an_html_trailer_goes_nowhere(folder, capsys):
    trailer = b"<html><body>do not echo me</body></html>"
    (folder / "trailer.jpg").write_bytes((folder / "photo.jpg").read_bytes() + trailer)
    code, records = hash_command(
        capsys, str(folder / "photo.jpg"), str(folder / "trailer.jpg"), "--jobs", "1"
    )
    assert code == 0
    assert records[0]["pdq"] == records[1]["pdq"] and records[0]["md5"] != records[1]["md5"]
    assert "do not echo" not in json.dumps(records)


def test_bad_arguments_exit_2(folder, capsys):
    code, records, errors = hash_command_with_errors(capsys, str(folder), "--signals", "pdq,photodna")
    assert code == 2 and records == [] and "photodna" in errors
    code, _ = hash_command(capsys, str(folder), "--jobs", "0")
    assert code == 2


@pytest.mark.slow
def test_runs_as_a_program(folder):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openmnr.core.hashrun",
            str(folder / "photo.jpg"),
            str(folder / "nothing.png"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["content_type"] == "photo" and records[1] == {
        "path": str(folder / "nothing.png"),
        "error": "no such file",
    }
    assert result.stderr == ""


@pytest.mark.slow
def test_isolated_run_gives_the_same_hashes(folder, capsys):
    (folder / "empty.jpg").write_bytes(b"")
    argv = [str(folder / "photo.jpg"), str(folder / "empty.jpg"), str(folder / "clips"), "--per-second", "1"]
    code, isolated = hash_command(capsys, *argv, "--isolate", "--jobs", "1")
    _, plain = hash_command(capsys, *argv, "--jobs", "1")
    assert code == 1 and isolated == plain

"""The pool of decoder processes: reused while healthy, replaced after a bomb, a crash or a hang,
and the caller unharmed in every case."""

import io
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from openmnr.core import decoders, media

VECTOR = "vectors/pdq/images/bridge-mods/aaa-orig.jpg"
SMALL_MEMORY = 48 * 1024 * 1024


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting to be reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def bomb() -> bytes:
    """36 megapixels of grey: compresses to almost nothing, needs ~150 MB to decode and convert."""
    buffer = io.BytesIO()
    Image.new("L", (6000, 6000)).save(buffer, "PNG")
    return buffer.getvalue()


def _stop_waiting_decoders():
    decoders.configure(idle=0)
    decoders.configure(idle=decoders.DEFAULT_IDLE)


@pytest.fixture(autouse=True)
def _fresh_pools():
    _stop_waiting_decoders()  # each test starts with no decoder waiting (others' tests leave some)
    yield
    _stop_waiting_decoders()


def test_a_decoder_serves_call_after_call():
    first = decoders.run(os.getpid)
    assert first != os.getpid()
    assert decoders.run(os.getpid) == first
    assert decoders.waiting() == 1


def test_a_decoder_retires_after_its_calls(monkeypatch):
    monkeypatch.setattr(decoders, "MAX_CALLS", 2)
    pids = [decoders.run(os.getpid) for _ in range(5)]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


def test_no_pool_starts_a_child_for_each_call():
    decoders.configure(idle=0)
    assert decoders.run(os.getpid) != decoders.run(os.getpid)
    assert decoders.waiting() == 0


def test_pooled_decode_gives_the_same_pixels(shared):
    for _ in range(2):
        isolated = media.decode_isolated(shared / VECTOR)
        assert np.array_equal(np.asarray(isolated), np.asarray(media.decode_rgb(shared / VECTOR)))


def test_bombs_cost_a_decoder_each_and_the_next_upload_is_decoded(shared):
    before = decoders.run(os.getpid, memory=SMALL_MEMORY)
    data = bomb()
    for _ in range(4):
        with pytest.raises(media.TooLarge, match="memory"):
            media.decode_isolated(data, memory=SMALL_MEMORY)
    assert gone(before)
    after = decoders.run(os.getpid, memory=SMALL_MEMORY)
    assert after != before
    expected = np.asarray(media.decode_rgb(shared / VECTOR))
    assert np.array_equal(np.asarray(media.decode_isolated(shared / VECTOR, memory=SMALL_MEMORY)), expected)


def test_a_crash_costs_one_decoder():
    before = decoders.run(os.getpid)
    with pytest.raises(media.CorruptMedia, match="crashed"):
        decoders.run(os.abort)
    after = decoders.run(os.getpid)
    assert after != before and gone(before)


def test_a_hang_is_killed_and_the_pool_goes_on():
    before = decoders.run(os.getpid)
    start = time.monotonic()
    with pytest.raises(media.DecodeTimeout):
        decoders.run(time.sleep, 30, timeout=0.5)
    assert time.monotonic() - start < 10
    assert gone(before)
    assert decoders.run(os.getpid) != before


def test_a_decoder_that_died_while_waiting_is_replaced():
    before = decoders.run(os.getpid)
    os.kill(before, 9)
    deadline = time.monotonic() + 5
    while not gone(before):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert decoders.run(os.getpid) != before


def test_errors_keep_their_type_and_the_decoder():
    before = decoders.run(os.getpid)
    with pytest.raises(media.UnsupportedFormat, match="EPS"):
        media.decode_isolated(b"%!PS-Adobe-3.0 EPSF-3.0\n")
    assert decoders.run(os.getpid) == before


def test_concurrent_callers_each_get_a_decoder_and_few_are_kept(shared):
    expected = np.asarray(media.decode_rgb(shared / VECTOR))
    results, errors = [], []

    def decode():
        try:
            for _ in range(3):
                results.append(np.array_equal(np.asarray(media.decode_isolated(shared / VECTOR)), expected))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=decode) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == [True] * 15
    assert decoders.waiting() <= decoders.DEFAULT_IDLE


def test_the_fork_server_warm_up_runs_the_probed_hash_and_loads_what_it_loads_lazily():
    """The warm-up swallows its failures (the fork server must start), so check in a fresh
    interpreter that importing it really ran the probed hash: the probes module, Pillow's JPEG
    plugin and ``numpy.ma`` (which the trim's median loads on first use) are there afterwards."""
    script = (
        "import sys, openmnr.core.decoder_warmup as w; "
        "print(w.warm(), all(m in sys.modules for m in "
        "('openmnr.core.robust.probes', 'PIL.JpegImagePlugin', 'numpy.ma')))"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert found.stdout.split() == ["True", "True"], found.stderr[-2000:]
    assert "openmnr.core.decoder_warmup" in decoders._PRELOAD


def test_the_warm_up_loads_opencv_on_one_thread_and_starts_no_thread():
    """With OpenCV installed, the fork server has it loaded and has found keypoints once, set to
    one thread, so that finding them started no worker thread (OpenCV's default, one per core,
    starts one on a two-core machine: it is what grew a decoder past ``RETIRE_GROWTH``)."""
    pytest.importorskip("cv2")
    script = (
        "import os, sys, numpy, cv2; threads = len(os.listdir('/proc/self/task')); "
        "import openmnr.core.decoder_warmup as w; "
        "print('openmnr.core.robust.features' in sys.modules, cv2.getNumThreads(), "
        "len(os.listdir('/proc/self/task')) - threads)"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert found.stdout.split() == ["True", "1", "0"], found.stderr[-2000:]


def test_keypoint_calls_keep_their_decoder(shared):
    """Local features (``OPENMNR_MATCH_FEATURES``) used to leave a decoder past ``RETIRE_GROWTH``
    (OpenCV imported and its worker thread started in the decoder), so every upload forked a new
    one; with OpenCV preloaded in the fork server, one decoder serves them all."""
    pytest.importorskip("cv2")
    from openmnr.core.robust import features, probes

    data = (shared / "corpus" / "natural" / "camera-00.jpg").read_bytes()
    before = decoders.run(os.getpid)
    for _ in range(3):
        hashed = probes.hash_probed(data, isolate=True, keypoints=features.QUERY_POINTS)
        assert len(features.Features.from_bytes(hashed.keypoints)) > features.MIN_INLIERS
    assert decoders.run(os.getpid) == before
    assert decoders.waiting() == 1

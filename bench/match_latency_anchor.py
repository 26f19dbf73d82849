"""The anchor commit's side of bench/match_latency.py: the filing-day code in its own process.

The parent (``FilingDay``) extracts the commit's ``src/`` with ``git archive``, writes the uploads
to files, and starts ``child`` in a new process (``python -c``, so no script is ``__main__``: see
``FilingDay``) with that ``src/`` first on PYTHONPATH. The child reports ``openmnr.__file__``
(the parent checks it lies under the extracted folder, so nothing of this tree was imported), sets up its own fresh database and bank with that commit's code, and
answers each "do upload i" line with its elapsed ms, timed around ``client.post`` as the parent
times its own rows. Only stdlib and the shared set-up helpers of bench/match_latency.py (which
import nothing of ``openmnr`` at module level) are imported before ``openmnr`` is.

    python -c "$CHILD" SRC VAR UPLOADS BANK_SIZE   (started by the parent, never by hand)
"""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import anchor_source  # noqa: E402  (the intake bench's git archive of a commit's src/)
from match_latency import CORPUS, _api_key, _django, _people_and_bank  # noqa: E402


def setup_filing_day(var: Path, bank_size: int) -> str:
    """The anchor commit's set-up (in its child): the same pictures' PDQ and MD5 entries, each
    confirmed by two senior analysts; that code had no keypoint entries (``propose_picture``)."""
    _django(var)
    from openmnr.banks import services

    analyst, first, second, bank, member = _people_and_bank()
    for path in sorted(CORPUS.glob("*.jpg"))[:bank_size]:
        hashes = services.hash_upload(path.read_bytes())
        for signal_type in ("pdq", "md5"):
            entry = services.propose_entry(
                bank,
                signal_type=signal_type,
                value=hashes[signal_type].value,
                classification="baseline",
                by=analyst,
            )
            for senior in (first, second):
                services.confirm_entry(entry, by=senior)
    return _api_key(member)


def child(src: str, var: str, uploads: str, bank_size: int) -> int:
    """The anchor commit's side: set up, say which ``openmnr`` it imported, then answer each line
    ``i`` on stdin with the elapsed ms and whether upload ``i`` matched. The protocol has the
    original stdout to itself; anything else printed goes to stderr."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    import openmnr

    key = setup_filing_day(Path(var), bank_size)
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="localhost")
    data = [path.read_bytes() for path in sorted(Path(uploads).glob("*.jpg"))]
    out.write(f"ready {openmnr.__file__}\n")
    for line in sys.stdin:
        file = io.BytesIO(data[int(line)])
        file.name = "picture.jpg"
        start = time.perf_counter()
        response = client.post("/api/v1/match", {"file": file}, secure=True)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            out.write(f"error HTTP {response.status_code} {response.content[:200]!r}\n")
            return 1
        out.write(f"{elapsed * 1000:.3f} {int(response.json()['results'][0]['match'])}\n")
    return 0


#: The child's command line (``python -c CHILD SRC VAR UPLOADS BANK_SIZE``): no __main__ file.
CHILD = "import sys, match_latency_anchor as m; sys.exit(m.child(*sys.argv[1:4], int(sys.argv[4])))"


class FilingDay:
    """The parent's handle on the anchor commit's child process."""

    def __init__(self, commit: str, scratch: Path, uploads: list[bytes], bank_size: int):
        src = anchor_source(commit, scratch)
        folder = scratch / "uploads"
        folder.mkdir()
        for n, data in enumerate(uploads):
            (folder / f"{n:05}.jpg").write_bytes(data)
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "DATABASE_URL", "PYTEST"))
        }
        bench = str(Path(__file__).resolve().parent)
        env["PYTHONPATH"] = os.pathsep.join([str(src), bench, *filter(None, [env.get("PYTHONPATH")])])
        (scratch / "var").mkdir()
        # Started with -c, not as a script: that commit decodes each upload in a child forked from
        # a fork server, and multiprocessing re-runs a script __main__ (as __mp_main__) in every
        # such child, here this file with intake's and psutil's imports: the first run of
        # 2026-12-03 charged that to every filing-day request (p50 304 ms at load 10-12).
        argv = [sys.executable, "-c", CHILD, str(src), str(scratch / "var"), str(folder), str(bank_size)]
        self.process = subprocess.Popen(
            argv, env=env, cwd=scratch, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        ready = self.process.stdout.readline().split(maxsplit=1)
        if len(ready) != 2 or ready[0] != "ready" or not Path(ready[1].strip()).is_relative_to(src):
            raise SystemExit(f"the anchor child did not start on {src}: {ready!r}")

    def request(self, index: int) -> tuple[float, bool]:
        self.process.stdin.write(f"{index}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().split()
        if len(answer) != 2 or answer[0] == "error":
            raise SystemExit(f"the anchor child failed: {answer!r}")
        return float(answer[0]) / 1000, answer[1] == "1"

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)

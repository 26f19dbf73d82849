"""Many streams, one child process each, restarted after a crash.

``openmnr live serve`` watches every configured stream in its own child process
(``openmnr live watch --follow`` on one address), for three reasons: a stream that crashes the
decoder (FFmpeg is C, and a hostile stream is input from outside) takes down only its own process;
each stream gets a core of its own when there are cores to spare, which threads in one Python
process would not give (hashing holds the GIL); and what leaves a child is by construction only
what it prints: one JSON event a line (``session.Event``), never a frame.

The supervisor reads those lines and hands each event to ``on_event`` (the platform records
alerts and sends webhooks there). A child that exits while the supervisor is not stopping has
crashed: it is started again after a back-off (1 s, doubling to 60 s, back to 1 s once a child has
run for a minute) and a ``restarted`` event says so. Stopping terminates the children and waits
for them.
"""

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .session import StreamSpec

HEALTHY_AFTER = 60.0
MAX_BACKOFF = 60.0


@dataclass
class Child:
    spec: StreamSpec
    process: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = 1.0
    restart_at: float | None = None
    restarts: int = 0
    reader: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    """Runs and restarts one ``openmnr live watch`` child per stream (see the module docstring)."""

    def __init__(
        self,
        specs: list[StreamSpec],
        on_event: Callable[[dict], None],
        *,
        watch_args: list[str] = (),
        stop: threading.Event | None = None,
        python: str = sys.executable,
    ):
        self.children = [Child(spec) for spec in specs]
        self.on_event = on_event
        self.watch_args = list(watch_args)
        self.stop = stop or threading.Event()
        self.python = python
        self._events: queue.Queue = queue.Queue()

    def command(self, spec: StreamSpec) -> list[str]:
        listen = ["--listen"] if spec.listen else []
        return [
            self.python, "-m", "openmnr.cli", "live", "watch", "--follow",
            *self.watch_args, *listen, "--name", spec.name, spec.url,
        ]  # fmt: skip

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            self.command(child.spec), stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
        )
        child.started = time.monotonic()
        child.restart_at = None
        child.reader = threading.Thread(target=self._read, args=(child.process,), daemon=True)
        child.reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and "event" in event:
                self._events.put(event)

    def run(self) -> None:
        for child in self.children:
            self._start(child)
        try:
            while not self.stop.is_set():
                self._deliver(timeout=0.2)
                self._check()
        finally:
            self._shutdown()
            self._deliver(timeout=0)

    def _deliver(self, timeout: float) -> None:
        try:
            event = self._events.get(timeout=timeout) if timeout else self._events.get_nowait()
        except queue.Empty:
            return
        while True:
            self.on_event(event)
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return

    def _check(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at and not self.stop.is_set():
                    self._start(child)
                continue
            code = child.process.poll()
            if code is None:
                continue
            if now - child.started >= HEALTHY_AFTER:
                child.backoff = 1.0
            child.restarts += 1
            child.restart_at = now + child.backoff
            self._events.put(
                {
                    "event": "restarted",
                    "stream": child.spec.name,
                    "at": time.time(),
                    "exit_code": code,
                    "delay": child.backoff,
                    "restarts": child.restarts,
                }
            )
            child.backoff = min(child.backoff * 2, MAX_BACKOFF)

    def _shutdown(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for child in self.children:
            if child.reader is not None:
                child.reader.join(5)

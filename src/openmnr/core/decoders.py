"""Processes that decode untrusted content for us: a pool of long-lived decoders, each limited.

``run(func, *args, timeout=, memory=)`` calls ``func(*args)`` in another process and returns its
result. That process's address space may grow by at most ``memory`` bytes (RLIMIT_AS) and it must
answer within ``timeout`` seconds; ``MediaError`` raised there is raised here, running out of
memory becomes ``TooLarge``, a crash ``CorruptMedia``, a hang ``DecodeTimeout``. A decoder bug or a
decompression bomb costs a decoder process, never the caller.

Why a pool. Starting a child for each call (which this module still does when the pool is set to
keep no decoder, ``configure(idle=0)``) costs a fork from the fork server, the new process's page
faults on the preloaded numpy and Pillow, and its teardown: on a loaded two-core machine that was
most of the CPU an industry report's upload cost, for a decode that takes a few milliseconds. A
decoder here serves call after call, so the price is paid once per many uploads.

What a long-lived decoder must still guarantee, and how:

* *The memory limit holds for every call.* A decoder sets RLIMIT_AS once, as it starts and before it
  has seen any input, to its address space then plus ``memory``. After each call it measures its
  address space again; if a call left it more than ``RETIRE_GROWTH`` larger than at its start
  (memory the allocator keeps rather than returning it), it answers and exits, so the next input
  never has less than ``memory - RETIRE_GROWTH`` to work with. A decoder that ran out of memory
  answers ``TooLarge`` and exits too: one bomb costs one process.
* *A crash or a hang costs one decoder.* A decoder that dies mid-call (EOF on its pipe) or does not
  answer in time is killed and reaped, and never given back to the pool; the next call starts a
  fresh one. A decoder found dead while idle is replaced before use.
* *What one input did to a decoder ends soon.* A decoder serves at most ``MAX_CALLS`` calls, then
  exits. This is the trade-off of the pool: a decoder bug that corrupted a decoder's state without
  crashing it could affect up to that many later decodes of this server process, where a child per
  call bounded it to one. Decodes are pure functions of their bytes, nothing is written from a
  decoder, and the decoders of one server process serve only that process.
* *One call at a time per decoder.* A caller takes an idle decoder or starts a new one, and gives
  it back afterwards; at most ``idle`` decoders are kept waiting (the others exit), so a burst of
  concurrent uploads costs processes only while it lasts. Pools are per ``memory`` limit.
* *Forked children do not share decoders.* After ``os.fork`` (a gunicorn worker, a test server),
  the child forgets its parent's pools: their pipes belong to the parent.

Decoders come from the multiprocessing fork server, never from the caller, so the caller's threads
are never forked; the fork server preloads the hashing modules once and runs them once
(``openmnr.core.decoder_warmup``), so a new decoder's first call does not load what they load lazily.
"""

import multiprocessing
import os
import resource
import threading
from dataclasses import dataclass

from openmnr.core.media import (
    ISOLATED_MEMORY,
    ISOLATED_TIMEOUT,
    CorruptMedia,
    DecodeTimeout,
    MediaError,
    TooLarge,
)

#: Decoders kept waiting per memory limit in each process; 0 starts a child for every call.
DEFAULT_IDLE = 2
#: Calls a decoder serves before it exits.
MAX_CALLS = 200
#: Growth of a decoder's address space over its start after which it exits once it has answered.
RETIRE_GROWTH = 64 * 1024 * 1024
#: Imported by the fork server before it forks a decoder: the hashing modules, and a warm-up that
#: runs them once so that what they load lazily on first use is loaded there (``decoder_warmup``).
_PRELOAD = ["openmnr.core.signals.pdq", "openmnr.core.decoder_warmup"]

_idle_limit = DEFAULT_IDLE
_pools: dict[int, "_Pool"] = {}
_pools_lock = threading.Lock()


def configure(*, idle: int) -> None:
    """Keep at most ``idle`` decoders waiting per memory limit; 0 starts a child for every call.
    Decoders already waiting beyond the new number exit."""
    global _idle_limit
    if idle < 0:
        raise ValueError("idle must be 0 or more")
    _idle_limit = idle
    with _pools_lock:
        pools = list(_pools.values())
    for pool in pools:
        pool.trim(idle)


def run(func, /, *args, timeout: float = ISOLATED_TIMEOUT, memory: int = ISOLATED_MEMORY):
    """``func(*args)`` in a decoder limited to ``memory`` extra bytes and ``timeout`` seconds (see
    the module docstring). ``func`` and its arguments must be picklable."""
    if _idle_limit == 0:
        return _run_once(func, args, timeout=timeout, memory=memory)
    pool = _pool(memory)
    decoder = pool.take()
    keep = False
    try:
        try:
            decoder.conn.send((func, args))
        except OSError:  # died while idle, between the check and the send: use a fresh one
            decoder.stop()
            decoder = pool.start()
            decoder.conn.send((func, args))
        if not decoder.conn.poll(timeout):
            raise DecodeTimeout(f"decoding took longer than {timeout:g} s")
        try:
            status, payload, keep = decoder.conn.recv()
        except (EOFError, OSError):
            decoder.process.join(1)
            raise CorruptMedia(f"the decoder crashed (exit code {decoder.process.exitcode})") from None
    finally:
        if keep:
            pool.give(decoder)
        else:
            decoder.stop()
    if status == "error":
        raise payload
    return payload


def waiting() -> int:
    """Decoders waiting in this process's pools (for tests and the status of a process)."""
    with _pools_lock:
        return sum(len(pool.idle) for pool in _pools.values())


def _context():
    context = multiprocessing.get_context("forkserver")
    # The fork server imports numpy, Pillow and pdqhash once, and runs the hashing once; without
    # this every decoder imports them again (about a second each) and pays the first call's lazy
    # loading (about 70 ms more). It takes effect when the server first starts.
    context.set_forkserver_preload(_PRELOAD)
    return context


@dataclass
class _Decoder:
    process: multiprocessing.Process
    conn: object

    def stop(self) -> None:
        """Kill (if still running) and reap; closing the pipe makes an idle decoder exit anyway."""
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()


class _Pool:
    """The decoders of one memory limit in this process."""

    def __init__(self, memory: int):
        self.memory = memory
        self.idle: list[_Decoder] = []
        self.lock = threading.Lock()

    def start(self) -> _Decoder:
        context = _context()
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=_serve, args=(theirs, self.memory, MAX_CALLS, RETIRE_GROWTH), daemon=True
        )
        process.start()
        theirs.close()
        return _Decoder(process, ours)

    def take(self) -> _Decoder:
        while True:
            with self.lock:
                decoder = self.idle.pop() if self.idle else None
            if decoder is None:
                return self.start()
            if decoder.process.is_alive():
                return decoder
            decoder.stop()

    def give(self, decoder: _Decoder) -> None:
        with self.lock:
            if len(self.idle) < _idle_limit:
                self.idle.append(decoder)
                return
        decoder.stop()

    def trim(self, idle: int) -> None:
        with self.lock:
            extra, self.idle = self.idle[idle:], self.idle[:idle]
        for decoder in extra:
            decoder.stop()


def _pool(memory: int) -> _Pool:
    with _pools_lock:
        pool = _pools.get(memory)
        if pool is None:
            pool = _pools[memory] = _Pool(memory)
        return pool


def _forget_pools() -> None:
    """In a forked child: the parent's decoders are not ours (their pipes are the parent's)."""
    global _pools, _pools_lock
    _pools, _pools_lock = {}, threading.Lock()


os.register_at_fork(after_in_child=_forget_pools)


def _limit_memory(memory: int) -> int:
    """Allow this process ``memory`` bytes of address space beyond what it has now; return now's."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    now = _address_space()
    limit = now + memory
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return now


def _outcome(func, args, memory: int) -> tuple[tuple, bool]:
    """(("ok", result) or ("error", MediaError), whether the decoder may serve again)."""
    try:
        return ("ok", func(*args)), True
    except MemoryError:
        return ("error", TooLarge(f"decoding needed more than {_mib(memory)} of memory")), False
    except MediaError as exc:
        return ("error", exc), True
    except Exception as exc:  # any other failure of a decoder on hostile input
        return ("error", CorruptMedia(f"the decoder failed ({_detail(exc)})")), True


def _send(conn, outcome: tuple, keep: bool, memory: int) -> bool:
    try:
        conn.send((*outcome, keep))
    except MemoryError:
        conn.send(("error", TooLarge(f"decoding needed more than {_mib(memory)} of memory"), False))
        return False
    return keep


def _serve(conn, memory: int, max_calls: int, retire_growth: int) -> None:
    """A decoder: limit the address space once, then answer calls until told to stop or retired."""
    start = _limit_memory(memory)
    for served in range(1, max_calls + 1):
        try:
            func, args = conn.recv()
        except (EOFError, OSError):
            return  # the pool closed our pipe
        except MemoryError:
            conn.send(("error", TooLarge(f"the content needed more than {_mib(memory)} of memory"), False))
            return
        outcome, keep = _outcome(func, args, memory)
        del func, args
        keep = keep and served < max_calls and _address_space() - start <= retire_growth
        if not _send(conn, outcome, keep, memory):
            return


def _run_once(func, args, *, timeout: float, memory: int):
    """A child for this call alone (the pool configured off)."""
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_once_main, args=(sender, memory, func, args), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise DecodeTimeout(f"decoding took longer than {timeout:g} s")
        try:
            status, payload = receiver.recv()
        except (EOFError, OSError):
            child.join(1)
            raise CorruptMedia(f"the decoder crashed (exit code {child.exitcode})") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if status == "error":
        raise payload
    return payload


def _once_main(sender, memory: int, func, args) -> None:
    _limit_memory(memory)
    outcome, _keep = _outcome(func, args, memory)
    try:
        sender.send(outcome)
    except MemoryError:
        sender.send(("error", TooLarge(f"decoding needed more than {_mib(memory)} of memory")))
    sender.close()


def _address_space() -> int:
    """Current virtual memory size of this process, so the limit counts only new allocations."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:200] if text else type(exc).__name__


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"

"""The client's local test of a URL against the list's prefixes: the hot path of a proxy.

A proxy asks, for every URL it sees, whether any of the URL's Safe Browsing expressions
(``expressions.url_expressions``) has a listed 4-byte SHA-256 prefix. Doing that literally costs a
URL's 2 to 30 expression strings and as many SHA-256 calls (about 7 of each for a common URL), and
on a Python client that is the whole budget. ``PrefixLookup.candidates`` gives exactly the same
answer with less work, by two observations:

1. **Most URLs are already canonical.** For ``http(s)://host/path?query`` with a lower-case host
   and a path and query of visible ASCII without ``%``, ``#``, ``\\``, double slash or dot segment,
   every step of the canonicaliser is the identity; the expressions are then host suffixes joined
   to slices of the URL itself. Deciding that takes a few ``str`` methods (C loops), not a regular
   expression over the whole URL; only the host of a key not seen before goes through one
   (``_HOST``).
2. **Hosts and directories repeat; exact paths do not.** A URL's expressions are the host suffixes
   times the path prefixes: the exact path (with and without the query), and up to four directories
   (``/``, ``/a/``, ``/a/b/``, ``/a/b/c/``). The directory expressions depend only on the host and
   the URL's directory, so the answer for them is cached under ``host + directory`` (the *key*).
   A cached key costs one set lookup instead of (suffixes x directories) SHA-256 calls; what
   is left is the exact path's 1-2 expressions per host suffix.

The cache is a set of keys (the host suffixes are cut again from the URL on a hit, cheaper than
keeping a tuple of them alive per key), and holds a key only once a
URL of the key was hashed whole without a prefix hit: a key whose directory expressions fall in a
listed bucket is never cached. Any prefix hit sends the URL through the reference computation
(``url_expressions``, hashing every expression in order), so the candidates and their order are
exactly the reference's; hits are rare (about 0.1% of unlisted URLs, plus the listed ones). The
cache is only ever right for the prefixes it was filled with: a new ``PrefixLookup`` is made for
each state of the list (``UrlListClient._apply``), so an update can never be answered from an old
cache. It is bounded (``cache_size`` keys, emptied whole when full: a clear is O(1) amortised and
an LRU's bookkeeping would cost more per URL than the misses it saves on proxy traffic).

Anything else (upper case, ``%``, a port, user information, a numeric host, a tracking parameter
that the case form drops, bytes) takes the reference computation unchanged. The property tests in
``tests/core/test_urllist_lookup.py`` hold ``candidates`` equal to the reference on random URLs
with random lists, with the cache warm and cold.
"""

import hashlib
import multiprocessing
import operator
import re

from .expressions import _TRACKING, MAX_URL_BYTES, InvalidURL, url_expressions

__all__ = ["DEFAULT_CACHE_SIZE", "LookupPool", "PrefixLookup", "local_many"]

#: Keys (host + directory) kept before the cache is emptied: about 20 MB at the limit.
DEFAULT_CACHE_SIZE = 65_536

#: A host the fast path accepts: lower-case labels, the last starting with a letter (so it is no
#: numeric address), no empty label, port or user information (the same as ``expressions._CANONICAL``).
_HOST = re.compile(r"(?:[a-z0-9_-]+\.)*[a-z][a-z0-9_-]*").fullmatch

_tracking = _TRACKING.search
_sha256 = hashlib.sha256
_digest = type(_sha256()).digest
_first4 = operator.itemgetter(slice(0, 4))


def _host_suffixes(data: bytes) -> tuple[bytes, ...]:
    """The host and up to four suffixes, from five labels down to two (as ``_combine`` orders them)."""
    dot = data.rfind(b".")
    first = data.rfind(b".", 0, dot)
    if first < 0:  # one or two labels: no suffix but the host itself
        return (data,)
    dots = [first]
    for _ in range(3):
        dot = data.rfind(b".", 0, dots[-1])
        if dot < 0:
            break
        dots.append(dot)
    return (data, *[data[d + 1 :] for d in reversed(dots)])


def _directories(directory: bytes) -> tuple[bytes, ...]:
    """The root and up to three directories below it of a path that ends with ``/``."""
    if directory.count(b"/") == 2:  # the root and one directory: the commonest case
        return (b"/", directory)
    found = []
    end = 0
    for _ in range(4):
        end = directory.find(b"/", end) + 1
        if not end:
            break
        found.append(directory[:end])
    return tuple(found)


class PrefixLookup:
    """The listed prefixes (first four bytes) and the per-key cache of directory answers."""

    def __init__(self, prefixes, *, cache_size: int = DEFAULT_CACHE_SIZE):
        # A dict with None values, not a set: a dict holding only bytes and None is untracked by
        # the garbage collector, so its million entries are never walked by a full collection
        # (a set always is: 30% of a batch's time once results are kept). Same lookup cost.
        self.prefixes = dict.fromkeys(bytes(p[:4]) for p in prefixes)
        self._listed = self.prefixes.keys()
        self.cache_size = cache_size
        self._clean: set[str] = set()  # keys (host + directory) whose directory expressions are unlisted

    def listed(self, expressions) -> bool:
        """Whether any of these expressions (bytes) has a listed prefix. One chain of C calls
        (SHA-256, digest, slice, set test), no interpreter step per expression."""
        return not self._listed.isdisjoint(map(_first4, map(_digest, map(_sha256, expressions))))

    def reference(self, url: str | bytes) -> list[tuple[str, bytes]]:
        """Every expression of ``url`` hashed in order, keeping those with a listed prefix: the
        definition that ``candidates`` must equal. Raises InvalidURL."""
        prefixes = self.prefixes
        hits = []
        for expression in url_expressions(url):
            digest = hashlib.sha256(expression.encode("ascii")).digest()
            if digest[:4] in prefixes:
                hits.append((expression, digest))
        return hits

    def candidates(self, url: str | bytes) -> list[tuple[str, bytes]]:
        """``reference(url)``, by the fast path when the URL allows it (module docstring)."""
        if type(url) is not str or len(url) > MAX_URL_BYTES or not url.isascii():
            return self.reference(url)
        if url.startswith("https://"):
            start = 8
        elif url.startswith("http://"):
            start = 7
        else:
            return self.reference(url)
        host_end = url.find("/", start)
        mark = url.find("?", start)
        if host_end < 0 or 0 <= mark < host_end:  # no path: rare enough for the reference
            return self.reference(url)
        if not url.isprintable() or " " in url or "%" in url or "#" in url or "\\" in url:
            return self.reference(url)  # a byte to escape, or a fragment
        path_end = len(url) if mark < 0 else mark
        if url.find("//", host_end, path_end) >= 0 or url.find("/.", host_end, path_end) >= 0:
            return self.reference(url)  # slashes to collapse or dot segments to resolve
        data = url.encode("ascii")
        if mark < 0:
            exact = (data[host_end:],)
        elif _tracking(url[mark + 1 :]) is None:
            exact = (data[host_end:], data[host_end:mark])
        else:
            return self.reference(url)  # the case form drops a parameter: a second set of expressions
        last = url.rfind("/", host_end, path_end - 1)  # the URL's directory, never the path itself
        key = url[start : last + 1] if last >= 0 else url[start:host_end]
        name = data[start:host_end]
        clean = self._clean
        if key in clean:  # a valid host whose directories are known to be unlisted: the exact path is left
            paths = exact
        elif _HOST(url, start, host_end) is None:
            return self.reference(url)
        elif last < 0:
            paths = exact
        elif last == host_end:
            paths = (*exact, b"/")
        else:
            paths = exact + _directories(data[host_end : last + 1])
        dots = name.count(b".")
        hosts = (
            (name,)
            if dots < 2
            else (name, name[name.find(b".") + 1 :])
            if dots == 2
            else _host_suffixes(name)
        )
        if not self._listed.isdisjoint(
            map(_first4, map(_digest, map(_sha256, [h + p for h in hosts for p in paths])))
        ):
            return self.reference(url)  # a prefix hit: the reference decides (the key stays out of the cache)
        if paths is not exact:
            if len(clean) >= self.cache_size:
                clean.clear()
            clean.add(key)
        return []


def local_many(lookup: PrefixLookup, urls) -> list[list[tuple[str, bytes]] | None]:
    """``candidates`` for each URL of a batch, None for a URL that is no http(s) address."""
    out: list[list[tuple[str, bytes]] | None] = []
    for url in urls:
        try:
            out.append(lookup.candidates(url))
        except InvalidURL:
            out.append(None)
    return out


_WORKER: list[PrefixLookup] = []

#: A worker's answer for one URL of its chunk, in the ``marks`` bytes it sends back.
_NOT_LISTED, _HIT, _INVALID = 0, 1, 2


def _start_worker(packed: bytes, cache_size: int) -> None:
    """In a new worker: the prefixes from their packed form (4 bytes each, sorted), held once."""
    _WORKER[:] = [PrefixLookup((packed[i : i + 4] for i in range(0, len(packed), 4)), cache_size=cache_size)]


def _worker_batch(urls: list[str]) -> tuple[bytes, list[list[tuple[str, bytes]]]]:
    """In a worker: one mark per URL of the chunk (not listed, prefix hit, invalid) and the
    candidates of the hits in order. The usual answer costs one byte on the way back."""
    marks = bytearray(len(urls))
    hits = []
    for i, found in enumerate(local_many(_WORKER[0], urls)):
        if found is None:
            marks[i] = _INVALID
        elif found:
            marks[i] = _HIT
            hits.append(found)
    return bytes(marks), hits


def _start_method() -> str:
    """'forkserver' where there is one (Linux, macOS), else 'spawn': never a plain fork of this
    process, which may be running threads (a proxy's, Django's, a test runner's)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class LookupPool:
    """``local_many`` over ``processes`` processes: this one and ``processes - 1`` workers.

    **Fork safety.** The workers are started by the 'forkserver' method (or 'spawn'): a clean
    server process forks them, so no lock or thread state of this process (which may run threads)
    is copied. Each worker receives the list once, at start, as one ``bytes`` of sorted 4-byte
    prefixes (4 MB for 1M entries, one pickle), builds its own ``PrefixLookup`` and keeps it, with
    its cache, for the pool's life. A pool serves one state of the list: the client makes a new
    one after an update.

    **Few, large messages.** A batch is cut into one share per process; this process checks its
    own share while the workers check theirs (so two processes use two cores, not one core and a
    waiting parent). A worker's share goes as chunks of at least ``MIN_CHUNK`` URLs (one pickled
    list each), and comes back as one byte per URL plus the candidates of its prefix hits (rare).
    """

    #: The smallest chunk sent to a worker: a message costs about as much as checking a few URLs.
    MIN_CHUNK = 2_048

    def __init__(self, lookup: PrefixLookup, processes: int):
        if processes < 2:
            raise ValueError("a pool needs at least two processes (this one and a worker)")
        self.lookup = lookup
        self.processes = processes
        context = multiprocessing.get_context(_start_method())
        packed = b"".join(sorted(lookup.prefixes))
        self._pool = context.Pool(
            processes - 1, initializer=_start_worker, initargs=(packed, lookup.cache_size)
        )

    def local_many(self, urls) -> list[list[tuple[str, bytes]] | None]:
        urls = urls if isinstance(urls, list) else list(urls)
        share = -(-len(urls) // self.processes)
        size = max(self.MIN_CHUNK, -(-(len(urls) - share) // (self.processes - 1)))
        chunks = [urls[i : i + size] for i in range(share, len(urls), size)]
        pending = self._pool.map_async(_worker_batch, chunks) if chunks else None
        out = local_many(self.lookup, urls[:share])
        for marks, hits in pending.get() if pending is not None else ():
            found = iter(hits)
            out += [
                [] if mark == _NOT_LISTED else None if mark == _INVALID else next(found) for mark in marks
            ]
        return out

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()

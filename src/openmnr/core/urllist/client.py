"""The reference client of the URL list, on ``openmnr.core`` alone (no Django): a resolver, proxy or
filter keeps the prefixes, checks URLs locally, and confirms a hit with the server privately.

    client = UrlListClient(HttpTransport(server, api_key), public_key)
    client.update()            # snapshot first, then diffs; never sooner than min_wait_seconds
    client.check(url)          # -> CheckResult(listed, expression)
    client.check_many(urls)    # the same for a batch; only prefix hits reach the server

The local test is the hot path (every URL a proxy sees): ``lookup.PrefixLookup`` holds the
prefixes in a dict that the garbage collector never walks (``PrefixIndex``, a sorted numpy array, takes a fraction of the memory and
is what ``bench/urllist.py`` compares it with) and caches the answers for a host's directories, and
a client made with ``processes=2`` splits long batches between itself and a worker process
(started by the fork server, never a fork of the client). Only a hit goes to
the server, so the server sees a tiny share of the traffic, and through the OPRF learns only the
bucket. Every confirmation carries
a DLEQ proof, checked against the OPRF public key of the signed list: an answer made with any other
key is refused (``UrlListError``), so the server cannot mark one licensee's answers with a key of
its own.

The local step is what a proxy pays per URL: the URL's expressions (``expressions.url_expressions``)
and one SHA-256 per expression, less those that the lookup's cache answers (decision 0025).
"""

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import listformat, oprf
from .expressions import InvalidURL
from .lookup import LookupPool, PrefixLookup, local_many

__all__ = ["CheckResult", "HttpTransport", "InvalidURL", "TooSoon", "UrlListClient", "UrlListError"]


class UrlListError(RuntimeError):
    """The server could not be asked, or answered something the client cannot use."""


class TooSoon(UrlListError):
    """The server refused an update asked for before the list's minimum wait (429)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class CheckResult:
    listed: bool
    expression: str | None = None  # the listed expression (host suffix / path prefix), if any
    prefix_hits: int = 0  # how many of the URL's expressions fell in a listed bucket
    invalid: bool = False  # check_many only: the URL is no http(s) address (check raises instead)


class PrefixIndex:
    """Sorted 4-byte prefixes as uint32, for batch membership tests."""

    def __init__(self, prefixes: list[bytes]):
        self.array = np.frombuffer(b"".join(p[:4] for p in prefixes), dtype=">u4").astype(np.uint32)
        self.array.sort()

    def contains(self, values: np.ndarray) -> np.ndarray:
        """For each uint32 in ``values``: is it in the index?"""
        if not len(self.array):
            return np.zeros(len(values), dtype=bool)
        at = np.searchsorted(self.array, values)
        at[at == len(self.array)] = 0
        return self.array[at] == values


class HttpTransport:
    """Talks to the OpenMNR API with a licensee's API key (httpx)."""

    def __init__(self, server: str, api_key: str, *, timeout: float = 30.0):
        import httpx

        self._client = httpx.Client(
            base_url=server.rstrip("/") + "/api/v1/urllist",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
        )

    def _call(self, method: str, path: str, **kwargs) -> dict:
        import httpx

        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise UrlListError(f"the list server cannot be reached: {error}") from None
        if response.status_code == 429:
            try:
                seconds = int(response.headers.get("Retry-After", "60"))
            except ValueError:
                seconds = 60
            raise TooSoon(f"the list server asks to wait {seconds} seconds", seconds)
        if response.status_code != 200:
            raise UrlListError(f"the list server answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def snapshot(self) -> dict:
        return self._call("GET", "/snapshot")

    def diff(self, from_version: int) -> dict:
        return self._call("GET", "/diff", params={"from_version": from_version})

    def confirm(self, prefix: bytes, blinded: bytes) -> dict:
        return self._call(
            "POST",
            "/confirm",
            json={"prefix": prefix.hex(), "blinded": base64.b64encode(blinded).decode("ascii")},
        )


#: A batch at least this long is split over the client's processes (when it has more than one).
PARALLEL_BATCH = 4_096


class UrlListClient:
    def __init__(
        self,
        transport,
        public_key,
        *,
        name: str = "csam-urls",
        state: listformat.ListState | None = None,
        processes: int = 1,
    ):
        """``processes`` > 1 splits batches of ``PARALLEL_BATCH`` URLs or more over that many
        processes: this one and workers started by the fork server (``lookup.LookupPool``);
        ``close()`` stops them."""
        self.transport = transport
        self.public_key = public_key
        self.state = state or listformat.ListState(name)
        self.next_update_at = 0.0
        self.processes = processes
        self._lookup = PrefixLookup(self.state.prefixes)
        self._pool: LookupPool | None = None

    # -- keeping the list
    def update(self, *, now: float | None = None) -> bool:
        """Fetch a diff (or a snapshot when the client holds nothing or a diff does not fit);
        False without asking when the server's minimum wait has not passed."""
        now = time.time() if now is None else now
        if now < self.next_update_at:
            return False
        try:
            if self.state.version:
                try:
                    self._apply(self.transport.diff(self.state.version))
                except listformat.ListFormatError:
                    self._apply(self.transport.snapshot())  # the server allows this one at once
            else:
                self._apply(self.transport.snapshot())
        except TooSoon as refused:  # another copy of this key asked first: wait as told
            self.next_update_at = now + refused.retry_after
            return False
        self.next_update_at = now + self.state.min_wait_seconds
        return True

    def _apply(self, document: dict) -> None:
        payload = listformat.verify(document, self.public_key)
        self.state = listformat.apply(self.state, payload)
        self._lookup = PrefixLookup(self.state.prefixes)

    # -- checking URLs
    def candidates(self, url: str | bytes) -> list[tuple[str, bytes]]:
        """The URL's expressions whose prefix is in the list: (expression, full hash), in the
        order of ``url_expressions``. The hot path (``lookup.PrefixLookup``): no hit (the usual
        answer) means the URL is not listed, without asking anyone."""
        return self._lookup.candidates(url)

    def local_many(self, urls) -> list[list[tuple[str, bytes]] | None]:
        """``candidates`` for each URL of a batch, None for a URL that is no http(s) address; over
        the client's processes when it has several and the batch is long."""
        urls = urls if isinstance(urls, list) else list(urls)
        if self.processes < 2 or len(urls) < PARALLEL_BATCH:
            return local_many(self._lookup, urls)
        if self._pool is None or self._pool.lookup is not self._lookup:  # none yet, or an old list's
            self.close()
            self._pool = LookupPool(self._lookup, self.processes)
        return self._pool.local_many(urls)

    def close(self) -> None:
        """Stop the worker processes, if any (the client still checks URLs, in this process)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def check(self, url: str | bytes) -> CheckResult:
        """Whether the URL is listed: local prefixes first, then the server for each hit."""
        return self._confirm(self.candidates(url))

    def check_many(self, urls) -> list[CheckResult]:
        """``check`` for a batch, in order; a URL that is no http(s) address gives ``invalid``
        instead of raising, so one bad URL does not stop a proxy's batch."""
        return [
            CheckResult(False, invalid=True) if hits is None else self._confirm(hits) if hits else _NOT_LISTED
            for hits in self.local_many(urls)
        ]

    def _confirm(self, hits: list[tuple[str, bytes]]) -> CheckResult:
        for expression, digest in hits:
            blinding, blinded = oprf.blind(expression)
            answer = self.transport.confirm(digest[: self.state.prefix_bytes], blinded)
            try:
                evaluated = base64.b64decode(answer["evaluated"], validate=True)
                proof = base64.b64decode(answer["proof"], validate=True)
                outputs = [base64.b64decode(o, validate=True) for o in answer["outputs"]]
            except (KeyError, TypeError, ValueError):
                raise UrlListError("the server's confirmation is malformed") from None
            try:
                self._verify(blinded, evaluated, proof)
                listed = oprf.is_listed(expression, blinding, evaluated, outputs)
            except oprf.OprfError as error:
                raise UrlListError(f"the server's confirmation is refused: {error}") from None
            if listed:
                return CheckResult(True, expression, len(hits))
        return CheckResult(False, None, len(hits))

    def _verify(self, blinded: bytes, evaluated: bytes, proof: bytes) -> None:
        if not self.state.oprf_public_key:
            raise oprf.OprfError("the signed list names no OPRF public key to verify answers with")
        oprf.verify_proof(bytes.fromhex(self.state.oprf_public_key), [blinded], [evaluated], proof)

    # -- a state file, so a command-line check does not download the list each time
    def save(self, path: Path) -> None:
        data = {
            "name": self.state.name,
            "prefix_bytes": self.state.prefix_bytes,
            "version": self.state.version,
            "min_wait_seconds": self.state.min_wait_seconds,
            "oprf_public_key": self.state.oprf_public_key,
            "next_update_at": self.next_update_at,
            "prefixes": listformat.pack(self.state.prefixes),
            "checksum": listformat.checksum(self.state.prefixes),
        }
        path.write_text(json.dumps(data))

    @classmethod
    def load(cls, path: Path, transport, public_key) -> "UrlListClient":
        data = json.loads(path.read_text())
        prefixes = listformat.unpack(data["prefixes"], data["prefix_bytes"])
        if listformat.checksum(prefixes) != data["checksum"]:
            raise listformat.ListFormatError("the saved list is damaged")
        state = listformat.ListState(
            data["name"],
            data["prefix_bytes"],
            data["version"],
            prefixes,
            data["min_wait_seconds"],
            data.get("oprf_public_key", ""),
        )
        client = cls(transport, public_key, name=state.name, state=state)
        client.next_update_at = data["next_update_at"]
        return client


_NOT_LISTED = CheckResult(False)


def full_hash_hex(expression: str) -> str:
    return hashlib.sha256(expression.encode("ascii")).hexdigest()

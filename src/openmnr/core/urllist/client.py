"""The reference client of the URL list, on ``openmnr.core`` alone (no Django): a resolver, proxy or
filter keeps the prefixes, checks URLs locally, and confirms a hit with the server privately.

    client = UrlListClient(HttpTransport(server, api_key), public_key)
    client.update()            # snapshot first, then diffs; never sooner than min_wait_seconds
    client.check(url)          # -> CheckResult(listed, expression)

The local test is the hot path (every URL a proxy sees), so the prefixes are held in a sorted
numpy ``uint32`` array and looked up with ``searchsorted`` for a whole batch at once; a Python
``set`` of ints is the alternative (``bench/urllist.py`` measures both: the set is faster per single
URL, the array takes a quarter of the memory). Only a hit goes to the server, so the server sees
a tiny share of the traffic, and through the OPRF learns only the bucket.
"""

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import listformat, oprf
from .expressions import InvalidURL, expression_hash, url_expressions

__all__ = ["CheckResult", "HttpTransport", "InvalidURL", "UrlListClient", "UrlListError"]


class UrlListError(RuntimeError):
    """The server could not be asked, or answered something the client cannot use."""


@dataclass(frozen=True)
class CheckResult:
    listed: bool
    expression: str | None = None  # the listed expression (host suffix / path prefix), if any
    prefix_hits: int = 0  # how many of the URL's expressions fell in a listed bucket


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


class UrlListClient:
    def __init__(
        self, transport, public_key, *, name: str = "csam-urls", state: listformat.ListState | None = None
    ):
        self.transport = transport
        self.public_key = public_key
        self.state = state or listformat.ListState(name)
        self.next_update_at = 0.0
        self._index = PrefixIndex(self.state.prefixes)
        self._set = {int.from_bytes(p[:4], "big") for p in self.state.prefixes}

    # -- keeping the list
    def update(self, *, now: float | None = None) -> bool:
        """Fetch a diff (or a snapshot when the client holds nothing or a diff does not fit);
        False without asking when the server's minimum wait has not passed."""
        now = time.time() if now is None else now
        if now < self.next_update_at:
            return False
        if self.state.version:
            try:
                self._apply(self.transport.diff(self.state.version))
            except listformat.ListFormatError:
                self._apply(self.transport.snapshot())
        else:
            self._apply(self.transport.snapshot())
        self.next_update_at = now + self.state.min_wait_seconds
        return True

    def _apply(self, document: dict) -> None:
        payload = listformat.verify(document, self.public_key)
        self.state = listformat.apply(self.state, payload)
        self._index = PrefixIndex(self.state.prefixes)
        self._set = {int.from_bytes(p[:4], "big") for p in self.state.prefixes}

    # -- checking URLs
    def candidates(self, url: str | bytes) -> list[tuple[str, bytes]]:
        """The URL's expressions whose prefix is in the list: (expression, full hash)."""
        hits = []
        for expression in url_expressions(url):
            digest = expression_hash(expression)
            if int.from_bytes(digest[:4], "big") in self._set:
                hits.append((expression, digest))
        return hits

    def check(self, url: str | bytes) -> CheckResult:
        """Whether the URL is listed: local prefixes first, then the server for each hit."""
        hits = self.candidates(url)
        for expression, digest in hits:
            blinding, blinded = oprf.blind(expression)
            answer = self.transport.confirm(digest[: self.state.prefix_bytes], blinded)
            try:
                evaluated = base64.b64decode(answer["evaluated"], validate=True)
                outputs = [base64.b64decode(o, validate=True) for o in answer["outputs"]]
            except (KeyError, TypeError, ValueError):
                raise UrlListError("the server's confirmation is malformed") from None
            if oprf.is_listed(expression, blinding, evaluated, outputs):
                return CheckResult(True, expression, len(hits))
        return CheckResult(False, None, len(hits))

    # -- a state file, so a command-line check does not download the list each time
    def save(self, path: Path) -> None:
        data = {
            "name": self.state.name,
            "prefix_bytes": self.state.prefix_bytes,
            "version": self.state.version,
            "min_wait_seconds": self.state.min_wait_seconds,
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
            data["name"], data["prefix_bytes"], data["version"], prefixes, data["min_wait_seconds"]
        )
        client = cls(transport, public_key, name=state.name, state=state)
        client.next_update_at = data["next_update_at"]
        return client


def full_hash_hex(expression: str) -> str:
    return hashlib.sha256(expression.encode("ascii")).hexdigest()

"""CDN and reverse-proxy detection from a maintained data file (cdn.json beside this module).

Behind a CDN the addresses in DNS are the CDN's, not the origin server's: the CDN receives the
notice (it can stop serving the content and, for hotlines, usually name the origin host) and the
origin, with its country, stays unknown. A site is behind a CDN when a name in its CNAME chain ends
with one of a provider's CNAME suffixes, or when an address belongs to one of its ASNs.

The file's format (an administrator may pass their own with CdnCatalog.load(path)):
    {"source": "...", "updated": "YYYY-MM-DD",
     "providers": [{"name": "...", "asns": [13335], "cname_suffixes": ["cdn.cloudflare.net"],
                    "abuse_email": "..." or null, "abuse_url": "..." or null}]}
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from openmnr.core.hosting import HostingError


class CdnDataError(HostingError):
    """The CDN data file is missing, is not JSON, or does not have the documented shape."""


@dataclass(frozen=True)
class CdnProvider:
    name: str
    asns: frozenset[int]
    cname_suffixes: tuple[str, ...]
    abuse_email: str | None
    abuse_url: str | None


@dataclass(frozen=True)
class CdnCatalog:
    source: str
    updated: str
    providers: tuple[CdnProvider, ...]

    @classmethod
    def load(cls, path: Path | str | None = None) -> "CdnCatalog":
        """The packaged cdn.json, or the file at `path`. Raises CdnDataError."""
        try:
            if path is None:
                text = resources.files(__package__).joinpath("cdn.json").read_text(encoding="utf-8")
            else:
                text = Path(path).read_text(encoding="utf-8")
            return cls.from_dict(json.loads(text))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CdnDataError(f"cannot read CDN data {path or 'cdn.json'}: {exc}") from None

    @classmethod
    def from_dict(cls, data: dict) -> "CdnCatalog":
        """Raises CdnDataError naming the first field that is wrong."""
        try:
            providers = tuple(
                CdnProvider(
                    name=_text(entry["name"], "name"),
                    asns=frozenset(_asn(asn) for asn in entry.get("asns", [])),
                    cname_suffixes=tuple(
                        _text(suffix, "cname_suffixes").lower().strip(".")
                        for suffix in entry.get("cname_suffixes", [])
                    ),
                    abuse_email=entry.get("abuse_email"),
                    abuse_url=entry.get("abuse_url"),
                )
                for entry in data["providers"]
            )
            return cls(
                source=_text(data["source"], "source"),
                updated=_text(data["updated"], "updated"),
                providers=providers,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise CdnDataError(f"CDN data has the wrong shape: {exc!r}") from None

    def detect(self, cname_chain: Iterable[str] = (), asns: Iterable[int | None] = ()) -> CdnProvider | None:
        """The provider in front of a site, or None. CNAME suffixes win over ASNs because a CNAME
        names the service the site's owner chose, while an ASN may be shared with other services."""
        names = [name.lower().rstrip(".") for name in cname_chain]
        for provider in self.providers:
            for suffix in provider.cname_suffixes:
                if any(name == suffix or name.endswith("." + suffix) for name in names):
                    return provider
        asn_set = {asn for asn in asns if asn is not None}
        for provider in self.providers:
            if provider.asns & asn_set:
                return provider
        return None


def _text(value, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise CdnDataError(f"CDN data: {field} must be a non-empty string, got {value!r}")
    return value


def _asn(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**32:
        raise CdnDataError(f"CDN data: {value!r} is not an AS number")
    return value

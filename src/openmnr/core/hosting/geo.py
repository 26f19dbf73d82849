"""IP address -> autonomous system, organisation and country, from MaxMind-format (.mmdb) files.

The administrator configures the paths of two databases in MaxMind's layout: an ASN database
(GeoLite2-ASN and compatible: `autonomous_system_number`, `autonomous_system_organization`) and a
country database (GeoLite2-Country / -City and compatible: `country.iso_code`, falling back to
`registered_country.iso_code`). Either may be left out; its fields are then unknown (None).
Nothing is downloaded here: keeping the files fresh is the operator's job.
"""

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import maxminddb

from openmnr.core.hosting import HostingError


class GeoError(HostingError):
    """Base of the errors of this module."""


class GeoDatabaseError(GeoError):
    """A configured database file is missing or is not a readable .mmdb file."""


class InvalidAddress(GeoError):
    """The text given is not an IP address."""


@dataclass(frozen=True)
class IpInfo:
    """Who announces an address and where it is registered; None where the databases do not say."""

    ip: str
    asn: int | None
    org: str | None
    country: str | None  # ISO 3166-1 alpha-2, upper case


def _open(path: Path | str | None) -> maxminddb.Reader | None:
    if path is None:
        return None
    try:
        return maxminddb.open_database(str(path))
    except FileNotFoundError:
        raise GeoDatabaseError(f"database file not found: {path}") from None
    except (maxminddb.InvalidDatabaseError, ValueError, OSError) as exc:
        raise GeoDatabaseError(f"not a readable .mmdb database: {path} ({exc})") from None


def _get(reader: maxminddb.Reader | None, ip: str) -> dict:
    if reader is None:
        return {}
    try:
        record = reader.get(ip)
    except ValueError:
        # maxminddb raises ValueError for an IPv6 address in an IPv4-only database: the database
        # simply does not know the address.
        return {}
    except maxminddb.InvalidDatabaseError as exc:
        raise GeoDatabaseError(f"corrupt .mmdb database ({exc})") from None
    return record if isinstance(record, dict) else {}


class GeoLookup:
    """Opened databases; use as a context manager or call close()."""

    def __init__(self, asn_db: Path | str | None = None, country_db: Path | str | None = None):
        self._country = None
        self._asn = _open(asn_db)
        try:
            self._country = _open(country_db)
        except GeoDatabaseError:
            self.close()
            raise

    def lookup(self, ip: str) -> IpInfo:
        """Raises InvalidAddress for text that is not an IP address."""
        try:
            address = str(ipaddress.ip_address(ip))
        except ValueError:
            raise InvalidAddress(f"not an IP address: {ip!r}") from None

        asn_record = _get(self._asn, address)
        asn = asn_record.get("autonomous_system_number")
        org = asn_record.get("autonomous_system_organization")

        country_record = _get(self._country, address)
        country = None
        for key in ("country", "registered_country"):
            iso_code = (country_record.get(key) or {}).get("iso_code")
            if iso_code:
                country = str(iso_code).upper()
                break
        return IpInfo(
            ip=address,
            asn=int(asn) if isinstance(asn, int) else None,
            org=str(org) if org else None,
            country=country,
        )

    def close(self) -> None:
        for reader in (self._asn, self._country):
            if reader is not None:
                reader.close()

    def __enter__(self) -> "GeoLookup":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

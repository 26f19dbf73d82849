"""Which countries a report concerns, and how we know.

A report places people in countries in four ways: an estimated location (``countryCode``), a postal
address (``country``), a phone's country calling code, and an IP address (an IP capture event of a
person, of the incident, or of a file's upload), looked up in the operator's GeoIP country database
(OPENMNR_COUNTRY_MMDB, the same one the takedown trace uses). Each finding is kept as
``(role, country, source)`` so the case page can say "a victim in PT (phone)". A report that places
nobody anywhere is treated as ours: it stays in our queue rather than being lost to forwarding.
"""

import ipaddress
import logging
from functools import lru_cache

import phonenumbers
from django.conf import settings

from openmnr.core.hosting.geo import GeoError, GeoLookup

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _geo(path: str) -> GeoLookup | None:
    try:
        return GeoLookup(country_db=path)
    except GeoError as exc:
        logger.warning("industry jurisdiction: country database unusable: %s", exc)
        return None


def country_of_ip(ip: str) -> str | None:
    path = settings.TAKEDOWN_COUNTRY_DB
    if not path or not ip:
        return None
    try:
        ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    geo = _geo(str(path))
    if geo is None:
        return None
    try:
        return geo.lookup(ip.strip()).country
    except GeoError:
        return None


def countries_of_phone(calling_code: str, number: str) -> list[str]:
    """The countries a phone's calling code (``+351``) or an international number belongs to."""
    code = calling_code.strip().lstrip("+")
    if not code and number.strip().startswith("+"):
        try:
            code = str(phonenumbers.parse(number.strip(), None).country_code)
        except phonenumbers.NumberParseException:
            return []
    if not code.isdigit():
        return []
    regions = [r for r in phonenumbers.region_codes_for_country_code(int(code)) if r != "001"]
    if not regions:
        return []
    # A code several countries share (+1, +7) names its main country, and ours when ours shares it.
    home = home_country()
    return [regions[0]] + ([home] if home in regions[1:] else [])


def places(facts, files=()) -> list[tuple[str, str, str]]:
    """[(role, country, source)] for everything in the report that places someone somewhere."""
    found = []
    for person in facts.people:
        for place in person.places:
            found.append((person.role, place.country, place.source))
        for calling_code, number in person.phones:
            for country in countries_of_phone(calling_code, number):
                found.append((person.role, country, "phone"))
        for ip in person.ips:
            if country := country_of_ip(ip):
                found.append((person.role, country, "IP address"))
    for ip in facts.ips:
        if country := country_of_ip(ip):
            found.append(("incident", country, "IP address"))
    for file in files:
        if country := country_of_ip(file.ip):
            found.append(("reported", country, "upload IP address"))
    return sorted(set(found))


def home_country() -> str:
    return settings.TAKEDOWN_HOME_COUNTRY


def summary(found: list[tuple[str, str, str]]) -> tuple[list[str], bool]:
    """(countries concerned, whether it concerns ours: it does when ours is among them or when the
    report places nobody anywhere)."""
    countries = sorted({country for _role, country, _source in found})
    return countries, (home_country() in countries or not countries)

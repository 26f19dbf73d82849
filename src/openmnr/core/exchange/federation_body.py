"""The bodies of OpenMNR federation messages: a forwarded case and a partner's action on it.

A forward carries the case's reference at the sender's, its URL, when it was reported, its
classification (in the vocabulary's codes: the receiver refuses a term it does not know), its
hosting, and its items: each a URL, its classification and its signals (hashes), validated by the
signal type that owns them. Never media. An action names the forwarding hotline's case and one of
`ACTIONS`, as it happens.

`read_body` checks a body exactly as `forward_body` and `action_body` build one, so a sender cannot
send what a receiver would refuse; a `FederationError` names what is wrong.
"""

import re
from datetime import datetime
from typing import Any

from openmnr.core.vocabulary import VocabularyError, vocabulary

from .federation import FederationError, parse_time, utc_text

MAX_ITEMS = 200
# What a partner tells the hotline that forwarded a case, as it happens.
ACTIONS = (
    "received",
    "referred_to_police",
    "notice_to_host",
    "removed",
    "unavailable",
    "moved",
    "not_illegal",
)
SIGNAL_NAMES = ("pdq", "md5", "sha256", "vpdq")

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def read_body(kind: str, body: dict) -> dict:
    """The checked body of a message of `kind`; `FederationError` when it is not one."""
    return read_forward(body) if kind == "case.forward" else read_action(body)


def classification(
    assessment: str,
    *,
    category: str = "",
    age_group: str = "",
    gender: str = "",
    flags: list[str] | None = None,
) -> dict:
    return {
        "assessment": assessment,
        "category": category,
        "age_group": age_group,
        "gender": gender,
        "flags": sorted(flags) if flags is not None else None,
    }


def forward_body(
    *,
    case: str,
    url: str,
    reported_at: datetime,
    classification: dict,
    hosting: dict,
    items: list[dict],
) -> dict:
    """A case handed to a partner: its reference here, URL, hosting, classification and items
    (each a URL, its classification and its signals). Checked as the receiver will check it."""
    body = {
        "case": case,
        "url": url,
        "reported_at": utc_text(reported_at),
        "classification": classification,
        "category_scheme": vocabulary().default_scheme,
        "vocabulary": vocabulary().version,
        "hosting": hosting,
        "items": items,
    }
    return read_forward(body)


def action_body(*, case: str, action: str, at: datetime, note: str = "", hosting: dict | None = None) -> dict:
    body = {"case": case, "action": action, "at": utc_text(at), "note": note, "hosting": hosting}
    return read_action(body)


def read_forward(body: dict) -> dict:
    case = _string(body, "case", 100)
    url = _string(body, "url", 4000)
    if parse_time(body.get("reported_at")) is None:
        raise FederationError("reported_at is not a time")
    items = body.get("items")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise FederationError(f"items must be a list of at most {MAX_ITEMS}")
    checked_items = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise FederationError(f"item {index + 1} is not an object")
        checked_items.append(
            {
                "url": _string(item, "url", 4000),
                "classification": _classification(item.get("classification"), optional=True),
                "signals": _signals(item.get("signals"), index + 1),
            }
        )
    return {
        "case": case,
        "url": url,
        "reported_at": body["reported_at"],
        "classification": _classification(body.get("classification")),
        "category_scheme": _string(body, "category_scheme", 40),
        "vocabulary": _string(body, "vocabulary", 40),
        "hosting": _hosting(body.get("hosting")),
        "items": checked_items,
    }


def read_action(body: dict) -> dict:
    case = _string(body, "case", 100)
    action = body.get("action")
    if action not in ACTIONS:
        raise FederationError(f"unknown action {action!r}")
    if parse_time(body.get("at")) is None:
        raise FederationError("at is not a time")
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000:
        raise FederationError("note must be text of at most 2000 characters")
    hosting = body.get("hosting")
    return {
        "case": case,
        "action": action,
        "at": body["at"],
        "note": note,
        "hosting": _hosting(hosting) if hosting is not None else None,
    }


def _string(data: dict, name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise FederationError(f"{name} must be text of 1 to {limit} characters")
    return value.strip()


def _classification(data: Any, *, optional: bool = False) -> dict | None:
    if data is None and optional:
        return None
    if not isinstance(data, dict):
        raise FederationError("classification must be an object")
    vocab = vocabulary()
    try:
        assessment = vocab.assessment.term(data.get("assessment") or "").code
        age_group = vocab.age_group.term(data["age_group"]).code if data.get("age_group") else ""
        gender = vocab.gender.term(data["gender"]).code if data.get("gender") else ""
        flags = data.get("flags")
        if flags is not None:
            if not isinstance(flags, list):
                raise FederationError("flags must be a list or null")
            flags = sorted(vocab.close_flags(flags))
    except VocabularyError as exc:
        raise FederationError(f"classification: {exc}") from None
    category = data.get("category") or ""
    if not isinstance(category, str) or len(category) > 64:
        raise FederationError("category must be a short text")
    return {
        "assessment": assessment,
        "category": category,
        "age_group": age_group,
        "gender": gender,
        "flags": flags,
    }


def _hosting(data: Any) -> dict:
    if not isinstance(data, dict):
        raise FederationError("hosting must be an object")
    country = data.get("country") or ""
    if country and (not isinstance(country, str) or not _COUNTRY.match(country)):
        raise FederationError("hosting.country must be an ISO 3166-1 alpha-2 code")
    result = {"country": country}
    for name in ("ip", "isp"):
        value = data.get(name) or ""
        if not isinstance(value, str) or len(value) > 200:
            raise FederationError(f"hosting.{name} must be a short text")
        result[name] = value
    return result


def _signals(data: Any, number: int) -> dict:
    from openmnr.core import signals
    from openmnr.core.signals.base import InvalidSignalValue

    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FederationError(f"item {number}: signals must be an object")
    checked = {}
    for name, value in data.items():
        if name not in SIGNAL_NAMES:
            raise FederationError(f"item {number}: unknown signal type {name!r}")
        if not isinstance(value, str) or len(value) > 200_000:
            raise FederationError(f"item {number}: the {name} signal is not text")
        try:
            checked[name] = signals.get(name).validate(value)
        except InvalidSignalValue as exc:
            raise FederationError(f"item {number}: the {name} signal is not valid ({exc})") from None
    return checked

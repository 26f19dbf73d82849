"""Partners' URL lists: registered by an administrator, imported from a signed export or a file, and
published with our own entries only where the licence allows.

    register(name, kind, redistribute, source_url=, public_key_pem=, api_key_variable=, by=)
    update(partner, by=, **changes) its source, key, key variable, minimum wait, licence (audited)
    remove(partner, by=)            its entries leave the next version; the row stays for history
    fetch(partner, by=)             GET the partner's signed export (httpx, with our key at the
                                    partner read from the environment variable named) and import it;
                                    a 429 is PartnerBusy with the partner's Retry-After
    import_document(partner, doc)   verify with the partner's Ed25519 key, then replace its entries
    import_file(partner, text)      one URL or 64-digit SHA-256 per line ('#' comments)
    known_locally(url)              the partner lists (any licence) holding one of the URL's expressions

Each import replaces the partner's entries wholesale, so an entry the partner dropped is gone, and
the next publication (``publishing.publish``) removes it from our list as it removes a case taken
down. An export older than the one imported is refused: replaying an old export would bring back
entries the partner removed. A document whose signature does not hold with the registered key is
refused with ``PartnerRefused`` and the refusal is audited; nothing of it is kept.

Licence: ``redistribute`` says whether the partner's licence lets us pass its entries on. Only then
do they join the published list (source "partner", the partner named on each entry); otherwise
they serve only here (``known_locally``: an analyst sees that a reported URL is on a partner's
list). A line of a file that is a bare hash is never published: the confirmation's OPRF evaluates
the expression itself, which a hash does not give back; it too serves locally.

Our key at the partner is never stored: the row names an environment variable, and only one whose
name starts with ``OPENMNR_PARTNER_KEY_``, so nobody who may edit a partner list can point it at
another secret of the process (the database password, the audit key) and have it sent as a bearer
token to an address of their choosing. The schedule (the worker's clock, "fetch now") is
``partner_schedule.py``.
"""

import email.utils
import hashlib
import os
import re
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.urllist import listformat
from openmnr.core.urllist.expressions import InvalidURL, expressions, url_expressions

from ..errors import BadLines, InvalidInput, NotAllowed, PartnerBusy, PartnerRefused, audited_refusal
from ..models import PartnerEntry, PartnerList

MAX_ENTRIES = 1_000_000
BATCH = 500
FETCH_TIMEOUT_SECONDS = 30.0
MANAGE, FETCH = "blocking.manage_partner_lists", "blocking.fetch_partner_lists"
KEY_VARIABLE_PREFIX = "OPENMNR_PARTNER_KEY_"
_KEY_VARIABLE = re.compile(rf"^{KEY_VARIABLE_PREFIX}[A-Z0-9_]{{1,60}}$")
#: A partner's minimum wait or Retry-After is honoured up to a week; a longer one is read as a week.
MAX_WAIT_SECONDS = 7 * 24 * 3600


def _require(by, permission: str = MANAGE) -> None:
    """``by`` None is the system (the worker's clock, an operator's command)."""
    if by is not None and not by.has_perm(permission):
        raise NotAllowed("you may not manage partners' URL lists")


def _public_key(pem: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise InvalidInput("the partner's public key is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("the partner's public key is not an Ed25519 key")
    return key


def _check_source(source_url: str, public_key_pem: str) -> None:
    _public_key(public_key_pem)
    if not source_url.startswith(("http://", "https://")) or len(source_url) > 200:
        raise InvalidInput("a partner OpenMNR's export needs its http(s) address (at most 200 characters)")


def _check_variable(name: str) -> None:
    if name and not _KEY_VARIABLE.match(name):
        raise InvalidInput(
            f"the API key's environment variable is named {KEY_VARIABLE_PREFIX}..., in capitals, "
            "digits and underscores (the key itself is never stored)"
        )


def _check_wait(seconds) -> None:
    if not isinstance(seconds, int) or not 0 <= seconds <= MAX_WAIT_SECONDS:
        raise InvalidInput(f"the partner's minimum wait is from 0 to {MAX_WAIT_SECONDS:,} seconds")


def register(
    name: str,
    kind: str,
    *,
    redistribute: bool,
    source_url: str = "",
    public_key_pem: str = "",
    api_key_variable: str = "",
    min_wait_seconds: int = 0,
    by=None,
    request=None,
) -> PartnerList:
    """A new partner list (an administrator's act, audited with its licence flag)."""
    with audited_refusal("blocking.partner_register", by=by, request=request):
        _require(by)
        name = name.strip()
        if not name or PartnerList.objects.filter(name=name).exists():
            raise InvalidInput("a partner list needs a name of its own")
        if kind not in PartnerList.Kind.values:
            raise InvalidInput(f"a partner list is one of: {', '.join(PartnerList.Kind.values)}")
        if kind == PartnerList.Kind.OPENMNR:
            _check_source(source_url, public_key_pem)
        _check_variable(api_key_variable)
        _check_wait(min_wait_seconds)
        partner = PartnerList.objects.create(
            name=name,
            kind=kind,
            redistribute=redistribute,
            source_url=source_url,
            public_key_pem=public_key_pem,
            api_key_variable=api_key_variable,
            min_wait_seconds=min_wait_seconds,
            next_fetch_at=timezone.now() if kind == PartnerList.Kind.OPENMNR else None,
        )
        audit.record(
            "blocking.partner_register",
            request=request,
            actor=by,
            obj=partner,
            detail={"kind": kind, "redistribute": redistribute},
        )
        return partner


EDITABLE = ("source_url", "public_key_pem", "api_key_variable", "min_wait_seconds", "redistribute")


def update(partner: PartnerList, *, by=None, request=None, **changes) -> list[str]:
    """Change a partner list's source, key, key variable, minimum wait or licence; returns the names
    of the fields that changed. Audited with those names and the licence flag, never a value that
    could be a secret (the key variable's name is not one, but the log need not carry it)."""
    with audited_refusal("blocking.partner_update", by=by, obj=partner, request=request):
        _require(by)
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidInput(f"a partner list's {', '.join(sorted(unknown))} cannot be changed")
        with transaction.atomic():
            locked = PartnerList.objects.select_for_update().filter(pk=partner.pk, active=True).first()
            if locked is None:
                raise InvalidInput("this partner list was removed")
            changed = [name for name, value in changes.items() if getattr(locked, name) != value]
            for name in changed:
                setattr(locked, name, changes[name])
            if locked.kind == PartnerList.Kind.OPENMNR:
                _check_source(locked.source_url, locked.public_key_pem)
            _check_variable(locked.api_key_variable)
            _check_wait(locked.min_wait_seconds)
            if not changed:
                return []
            locked.save(update_fields=changed)
            audit.record(
                "blocking.partner_update",
                request=request,
                actor=by,
                obj=locked,
                detail={"changed": sorted(changed), "redistribute": locked.redistribute},
            )
        for name in changed:
            setattr(partner, name, getattr(locked, name))
        return changed


def remove(partner: PartnerList, *, by=None, request=None) -> int:
    """Stop using a partner's list: its entries go now (the next publication drops those we
    published, as a case taken down), the schedule stops, and the row stays because published
    versions name it (an appeal asks where an entry came from). Returns how many entries went."""
    with audited_refusal("blocking.partner_remove", by=by, obj=partner, request=request):
        _require(by)
        with transaction.atomic():
            locked = PartnerList.objects.select_for_update().filter(pk=partner.pk, active=True).first()
            if locked is None:
                raise InvalidInput("this partner list was removed already")
            gone, _ = PartnerEntry.objects.filter(partner=locked).delete()
            locked.active, locked.removed_at, locked.next_fetch_at = False, timezone.now(), None
            locked.save(update_fields=["active", "removed_at", "next_fetch_at"])
            audit.record(
                "blocking.partner_remove",
                request=request,
                actor=by,
                obj=locked,
                detail={"entries": gone, "redistribute": locked.redistribute},
            )
        partner.active, partner.removed_at = False, locked.removed_at
        return gone


def _entry(expression: str) -> tuple[str, str]:
    """(expression in our canonical form, its SHA-256 hex) for a partner's expression or URL."""
    canonical = expressions(expression if "://" in expression else f"http://{expression}")[0]
    return canonical, hashlib.sha256(canonical.encode("ascii")).hexdigest()


@transaction.atomic
def _replace(partner: PartnerList, entries: dict[str, str], version: int, *, by, request, how: str) -> dict:
    """The partner's entries become ``entries`` (full hash -> expression, "" for a bare hash)."""
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(f"a partner list holds at most {MAX_ENTRIES:,} entries")
    old = set(PartnerEntry.objects.filter(partner=partner).values_list("full_hash", flat=True))
    gone = sorted(old - set(entries))
    for start in range(0, len(gone), BATCH):  # IN lists of a bounded size (SQLite's variable limit)
        PartnerEntry.objects.filter(partner=partner, full_hash__in=gone[start : start + BATCH]).delete()
    PartnerEntry.objects.bulk_create(
        (
            PartnerEntry(partner=partner, expression=expression, full_hash=digest)
            for digest, expression in entries.items()
            if digest not in old
        ),
        batch_size=BATCH,
    )
    partner.version, partner.imported_at = version, timezone.now()
    partner.save(update_fields=["version", "imported_at"])
    counts = {"count": len(entries), "added": len(set(entries) - old), "removed": len(old - set(entries))}
    audit.record(
        "blocking.partner_import",
        request=request,
        actor=by,
        obj=partner,
        detail={"from": how, "version": version, **counts},
    )
    return counts


def import_document(
    partner: PartnerList, document: dict, *, by=None, request=None, _permission=MANAGE
) -> dict:
    """Import a partner OpenMNR's signed export; PartnerRefused (audited) if it cannot be trusted.
    (``fetch`` imports what it fetched under the fetch permission: what the partner signed.)"""
    with audited_refusal("blocking.partner_import", by=by, obj=partner, request=request):
        _require(by, _permission)
        if partner.kind != PartnerList.Kind.OPENMNR:
            raise InvalidInput("this partner list is imported from a file")
        try:
            version, found = listformat.read_export(document, _public_key(partner.public_key_pem))
        except listformat.ListFormatError as error:
            raise PartnerRefused(f"the partner's export is refused: {error}") from None
        if version < partner.version:
            raise PartnerRefused(
                f"the export is version {version}, older than the imported {partner.version}"
            )
        entries = {}
        for expression in found:
            try:
                canonical, digest = _entry(expression)
            except InvalidURL:
                raise PartnerRefused("the export holds an entry that is no web address") from None
            entries[digest] = canonical
        return _replace(partner, entries, version, by=by, request=request, how="export")


def fetch(partner: PartnerList, *, by=None, request=None) -> dict:
    """GET the partner's export from its registered address and import it."""
    import httpx

    with audited_refusal("blocking.partner_import", by=by, obj=partner, request=request):
        _require(by, FETCH)
        headers = {}
        if partner.api_key_variable:
            token = os.environ.get(partner.api_key_variable, "")
            if not token:
                raise PartnerRefused(f"the environment variable {partner.api_key_variable} holds no API key")
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = httpx.get(partner.source_url, headers=headers, timeout=FETCH_TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            raise PartnerRefused(f"the partner's export cannot be fetched: {type(error).__name__}") from None
        if response.status_code == 429:
            wait = retry_after(response.headers.get("Retry-After", ""))
            raise PartnerBusy(
                "the partner answered 429 (too soon)"
                + (f" and asks us to wait {wait} seconds" if wait is not None else ""),
                wait,
            )
        if response.status_code != 200:
            raise PartnerRefused(f"the partner's export cannot be fetched: HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise PartnerRefused("the partner's answer is not JSON") from None
        if not isinstance(document, dict):
            raise PartnerRefused("the partner's answer is not a signed document")
    return import_document(partner, document, by=by, request=request, _permission=FETCH)


def retry_after(value: str, now: datetime | None = None) -> int | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP date), at most a week;
    None when there is none or it cannot be read."""
    value = value.strip()
    if value.isdigit():
        return min(int(value), MAX_WAIT_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0, int(seconds + 0.999)), MAX_WAIT_SECONDS)


def import_file(partner: PartnerList, text: str, *, by=None, request=None, how: str = "file") -> dict:
    """Import a plain list: one URL (or expression) or one SHA-256 (64 hex digits) per line. Every
    line is read before anything is written: BadLines names the bad ones, and nothing is kept."""
    with audited_refusal("blocking.partner_import", by=by, obj=partner, request=request):
        _require(by)
        if partner.kind != PartnerList.Kind.FILE:
            raise InvalidInput("this partner list is imported from its signed export")
        entries, bad, bad_count = {}, [], 0
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if len(line) == 64 and all(c in "0123456789abcdefABCDEF" for c in line):
                entries.setdefault(line.lower(), "")
                continue
            try:
                canonical, digest = _entry(line)
            except InvalidURL as error:
                bad_count += 1
                if len(bad) < BadLines.SHOWN:
                    bad.append((number, str(error)))
                continue
            entries[digest] = canonical
        if bad_count:
            raise BadLines(bad, bad_count)
        return _replace(partner, entries, partner.version + 1, by=by, request=request, how=how)


def published_entries() -> dict[str, int]:
    """expression -> partner id, for the active partners whose licence lets us publish."""
    rows = PartnerEntry.objects.filter(partner__redistribute=True, partner__active=True).exclude(
        expression=""
    )
    wanted: dict[str, int] = {}
    for expression, partner_id in rows.order_by("partner_id").values_list("expression", "partner_id"):
        wanted.setdefault(expression, partner_id)
    return wanted


def known_locally(url: str) -> list[str]:
    """The names of the active partner lists (whatever their licence) that hold one of the URL's
    expressions: for analysts' eyes here, never published."""
    digests = [hashlib.sha256(e.encode("ascii")).hexdigest() for e in url_expressions(url)]
    return sorted(
        set(
            PartnerEntry.objects.filter(full_hash__in=digests, partner__active=True).values_list(
                "partner__name", flat=True
            )
        )
    )

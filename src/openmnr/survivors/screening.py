"""What the page sent, checked, and what becomes of each picture or video before any bank sees it.

Parsing (``parse``) refuses malformed input with an ``InvalidSubmission`` that names the item and
the field, never a value. Each item is a picture (PDQ with its quality, MD5, SHA-256) or a video
(MD5, SHA-256).

Then ``decide`` screens each item. A survivor's hashes go to platforms at once, so the page is also
a way to push hashes of ordinary pictures at them; the screening stops the cheap ways of doing so
and leaves the rest to staff:

- A PDQ of very low quality (below PDQ's own threshold of 50, or a hash with far fewer than 128
  bits set, which only a nearly flat picture gives, whatever quality the sender claims) is refused:
  a flat picture's hash lies close to countless others and would match them all. The picture's
  MD5 and SHA-256 are kept, so exact copies are still found, and the person is told why.
- Held for staff review, not sent to the bank: an item that matches an entry of a bank of known
  non-illegal pictures; one whose PDQ already lies within the match radius of many entries
  (SURVIVORS_HOLD_MATCHES), which a generic picture does and a private one does not; one that
  staff rejected before; and every item while a flood is under way (activity.py).

The person sees "being checked" for a held item, nothing more: the reasons are for staff.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from openmnr.banks import services as banks
from openmnr.core.signals.pdq import QUALITY_THRESHOLD

from . import activity
from .errors import InvalidSubmission
from .models import Item, Signal
from .states import HoldReason, ItemState

#: A PDQ hash has 128 bits set unless its picture is nearly flat (ties at the median).
MIN_BITS_SET = 100
KNOWN_BENIGN = "known_non_illegal"


@dataclass(frozen=True)
class Submitted:
    kind: str
    md5: str
    sha256: str
    pdq: str = ""
    pdq_quality: int | None = None

    def signals(self) -> dict[str, str]:
        return {
            name: value
            for name, value in (("pdq", self.pdq), ("md5", self.md5), ("sha256", self.sha256))
            if value
        }


@dataclass(frozen=True)
class Decision:
    item: Submitted
    state: str
    hold_reason: str = ""
    pdq_refused: bool = False


def parse(raw) -> list[Submitted]:
    """The items of a submission (a JSON list), validated; duplicates (same SHA-256) dropped."""
    if not isinstance(raw, list) or not raw:
        raise InvalidSubmission(_("Choose at least one picture or video."))
    if len(raw) > settings.SURVIVORS_ITEMS_PER_SUBMISSION:
        raise InvalidSubmission(
            _("Send at most %(count)s pictures and videos at a time.")
            % {"count": settings.SURVIVORS_ITEMS_PER_SUBMISSION}
        )
    items, seen = [], set()
    for number, entry in enumerate(raw, start=1):
        item = _parse_one(number, entry)
        if item.sha256 not in seen:
            seen.add(item.sha256)
            items.append(item)
    return items


def _parse_one(number: int, entry) -> Submitted:
    problem = _("File %(number)s: its fingerprint is not complete. Remove it and choose it again.") % {
        "number": number
    }
    if not isinstance(entry, dict) or entry.get("kind") not in (Item.Kind.PHOTO, Item.Kind.VIDEO):
        raise InvalidSubmission(problem)
    clean = {}
    for name in ("md5", "sha256") + (("pdq",) if entry["kind"] == Item.Kind.PHOTO else ()):
        value = entry.get(name)
        if value in (None, "") and name == "pdq":
            continue
        if not isinstance(value, str):
            raise InvalidSubmission(problem)
        try:
            clean[name] = banks.validate_self_reported(name, value)
        except banks.SelfReportError:
            raise InvalidSubmission(problem) from None
    quality = entry.get("pdq_quality")
    if "pdq" in clean and (
        not isinstance(quality, int) or isinstance(quality, bool) or not 0 <= quality <= 100
    ):
        raise InvalidSubmission(problem)
    return Submitted(
        entry["kind"],
        clean["md5"],
        clean["sha256"],
        clean.get("pdq", ""),
        quality if "pdq" in clean else None,
    )


def flat(pdq: str, quality: int | None) -> bool:
    """Whether a PDQ hash is too flat to match on (see the module docstring)."""
    return quality is None or quality < QUALITY_THRESHOLD or int(pdq, 16).bit_count() < MIN_BITS_SET


def decide(items: list[Submitted]) -> list[Decision]:
    """Screen each item: active (to the bank), or held with a reason; PDQ refused when flat."""
    kept = []
    for item in items:
        refused = bool(item.pdq) and flat(item.pdq, item.pdq_quality)
        kept.append((item.__class__(item.kind, item.md5, item.sha256) if refused else item, refused))
    everything = banks.screen([item.signals() for item, _ in kept])
    by_pdq = banks.screen([{"pdq": item.pdq} if item.pdq else {} for item, _ in kept])
    rejected = _previously_rejected([item for item, _ in kept])
    flood = activity.flooding()
    decisions = []
    for (item, refused), found, near in zip(kept, everything, by_pdq, strict=True):
        reason = ""
        if set(item.signals().values()) & rejected:
            reason = HoldReason.PREVIOUSLY_REJECTED
        elif KNOWN_BENIGN in found.purposes:
            reason = HoldReason.KNOWN_BENIGN
        elif item.pdq and near.count >= settings.SURVIVORS_HOLD_MATCHES:
            reason = HoldReason.MANY_MATCHES
        elif flood:
            reason = HoldReason.FLOOD
        state = ItemState.HELD if reason else ItemState.ACTIVE
        decisions.append(Decision(item, state, reason, refused))
    return decisions


def _previously_rejected(items: list[Submitted]) -> set[str]:
    values = {value for item in items for value in item.signals().values()}
    return set(
        Signal.objects.filter(item__state=ItemState.REJECTED, value__in=values).values_list(
            "value", flat=True
        )
    )

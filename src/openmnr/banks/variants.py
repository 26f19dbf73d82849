"""A limit on how many near-variants of one stored hash one caller may try.

A match answer is an inversion oracle: flip bits of a PDQ hash near a stored one and watch the
distance (or, at the edge of the match radius, the match itself) change, and the stored hash comes
out bit by bit (an outside tester recovered a confirmed entry's PDQ exactly from 256 one-bit flips
in three calls). A legitimate caller rarely sends more than a few different near-copies of one
picture in an hour; an inversion needs dozens to hundreds. So each caller (an API key, or a signed-in
user) may have at most ``BANKS_NEAR_VARIANTS_PER_HOUR`` different query values match one entry at a
distance above zero within a clock hour; the call that would pass the limit is refused as a whole
(``TooManyVariants``, 429 in the API) and audited, before anything is answered. Exact matches
(distance 0, MD5, SHA-256) reveal nothing about neighbours and are not counted.

The values are never stored: each variant is counted under a keyed hash that, with its hour's key,
is deleted when the hour ends (``accounts.ratelimit.hit_distinct``). Triage (no request: the
system matching reported media) is not limited.

This slows an inversion down to the limit per hour and makes it loud in the audit log; it does not
make it impossible for a patient caller with many keys. That is why keys learn only match/action,
and why distances are shown only to analysts, who need them to judge a near match.
"""

from django.conf import settings

from openmnr.accounts import ratelimit

PURPOSE = "banks-near-variants"
HOUR = 3600


def caller_of(request, user) -> str:
    key = getattr(request, "api_key", None)
    return f"key:{key.pk}" if key is not None else f"user:{user.pk}"


def first_over_limit(request, user, items: list[dict[str, str]], results) -> int | None:
    """Count every near-variant match of this call; the id of an entry whose limit it passes, or
    None. `items` are the call's signals, `results` their ItemResults, in the same order."""
    if request is None:
        return None
    caller = caller_of(request, user)
    over = None
    for item, result in zip(items, results, strict=True):
        for match in result.matches:
            if match.distance <= 0 or match.signal_type not in item:
                continue
            allowed = ratelimit.hit_distinct(
                PURPOSE,
                f"{caller}:{match.entry_id}",
                item[match.signal_type],
                settings.BANKS_NEAR_VARIANTS_PER_HOUR,
                HOUR,
            )
            if not allowed and over is None:
                over = match.entry_id
    return over

"""Tracking codes: what a public reporter gets instead of an account.

A code must be unguessable (it is the only key to a report's status), easy to read aloud over a
phone line and forgiving of how people type it back. So:

- 19 random characters (95 bits from `secrets`) in Crockford's base32 alphabet, which has no I, L,
  O or U: nothing that reads as another character, and no accidental words;
- one check character computed with the Luhn mod N algorithm over that alphabet, which catches
  every single mistyped character and most swapped neighbours, so a typo is reported as a typo
  before any database lookup;
- shown in five groups of four (``7KQ2-M9XD-...``); read back case-insensitively, with spaces or
  hyphens anywhere, and with O, I and L taken as 0, 1 and 1, as Crockford recommends.
"""

import secrets

from .errors import InvalidTrackingCode

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 19
LENGTH = RANDOM_LENGTH + 1
GROUP = 4

_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def new_code() -> str:
    """A fresh random code, check character included, without separators."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return payload + _check_character(payload)


def display(code: str) -> str:
    """The code in groups of four, as shown to the reporter."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise(text: str) -> str:
    """The code that `text` spells, or `InvalidTrackingCode` if it cannot be one."""
    code = text.strip().upper().translate(_READ_AS)
    if len(code) != LENGTH:
        raise InvalidTrackingCode(f"a tracking code has {LENGTH} letters and digits")
    if any(char not in _VALUE for char in code):
        raise InvalidTrackingCode("a tracking code holds only digits and the letters A-Z without U")
    if _check_character(code[:-1]) != code[-1]:
        raise InvalidTrackingCode("this code has a typo: one of its characters is not right")
    return code


def _check_character(payload: str) -> str:
    """Luhn mod N: double every second value from the right, fold it back into the alphabet's
    range, and pick the character that makes the total a multiple of N."""
    n = len(ALPHABET)
    total = 0
    for position, char in enumerate(reversed(payload)):
        value = _VALUE[char] * (2 if position % 2 == 0 else 1)
        total += value // n + value % n
    return ALPHABET[-total % n]

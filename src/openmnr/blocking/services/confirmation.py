"""Confirming a prefix hit: the full hashes of a bucket, or the blinded OPRF evaluation.

Both answer from the latest version only, and both learn the bucket and nothing more: the full-hash
call receives the prefix, the OPRF call the prefix and an element uniform over the group. The OPRF
call also keeps the bucket's other entries from the licensee (it gets their OPRF outputs, which
mean nothing without the server's key). Each call is audited with the key and the outcome, never
the prefix: the audit log must not become a record of what a licensee's users visited.
"""

import base64
import binascii
import hashlib

from openmnr.audit import services as audit
from openmnr.core.urllist import oprf

from .. import keys
from ..errors import InvalidInput, NotPublished
from ..models import ListEntry
from .publishing import latest, prefix_bytes


def _bucket(prefix_hex: str) -> list[ListEntry]:
    width = prefix_bytes()
    prefix_hex = prefix_hex.strip().lower()
    if len(prefix_hex) != 2 * width or not set(prefix_hex) <= set("0123456789abcdef"):
        raise InvalidInput(f"a prefix is {width} bytes, {2 * width} hexadecimal digits")
    if latest() is None:
        raise NotPublished("the list has not been published yet")
    return list(ListEntry.objects.filter(removed_version__isnull=True, full_hash__startswith=prefix_hex))


def full_hashes(prefix_hex: str, *, request=None) -> list[str]:
    """The full SHA-256 (hex) of every live entry in the bucket."""
    found = sorted(entry.full_hash for entry in _bucket(prefix_hex))
    audit.record(
        "blocking.confirm", request=request, object_type="blocking.list", detail={"mode": "full_hashes"}
    )
    return found


def evaluate(prefix_hex: str, blinded_b64: str, *, request=None) -> dict:
    """k·B with its DLEQ proof (bound to the OPRF public key in the signed list), and the OPRF
    output of every live entry in the bucket, in an order that says nothing."""
    try:
        blinded = base64.b64decode(blinded_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("the blinded element is not base64") from None
    bucket = _bucket(prefix_hex)
    key = keys.oprf_key()
    try:
        evaluated = oprf.evaluate(key, blinded)
    except oprf.OprfError as error:
        raise InvalidInput(str(error)) from None
    proof = oprf.prove(key, [blinded], [evaluated])
    outputs = sorted(oprf.evaluate_entry(key, entry.expression) for entry in bucket)
    audit.record("blocking.confirm", request=request, object_type="blocking.list", detail={"mode": "oprf"})
    return {
        "evaluated": base64.b64encode(evaluated).decode("ascii"),
        "proof": base64.b64encode(proof).decode("ascii"),
        "outputs": [base64.b64encode(o).decode("ascii") for o in outputs],
    }


def expression_hash_hex(expression: str) -> str:
    return hashlib.sha256(expression.encode("ascii")).hexdigest()

"""Private confirmation of a prefix hit: a blinded OPRF over ristretto255 (libsodium, via rbcl).

A prefix hit says only "maybe". Asking the server for the full hashes of the bucket tells the
server the bucket, which is already little (a 4-byte bucket holds any of billions of URLs); the
OPRF exchange reveals nothing more and also keeps the *other* entries of the bucket from the
client:

    client:  P = H2G(expression);  r random;  B = r·P                  --- prefix, B --->
    server:  Z = k·B;  outputs = {H(e, k·H2G(e)) for each listed e in the bucket}   <--- Z, outputs
    client:  N = r⁻¹·Z = k·P;  listed  <=>  H(expression, N) in outputs

The server sees the prefix and B. B is r·P for a scalar r drawn uniformly from the non-zero
scalars; the group has prime order, so every non-identity element is r·P for exactly one such r,
whatever P is: B is uniform and the same distribution for every URL of the bucket. The client
learns k·P for its own expression only; the other outputs are pseudorandom without k (2HashDH,
the construction of RFC 9497's base mode; the encoding here is our own and the domain strings
below keep it apart from any other use). A licensee could still ask about URLs one by one: that
is what a lookup service is, and the API rate-limits and audits each call.

Why not RFC 9497 byte for byte: no well-kept Python library implements it over libsodium today.
The group operations come from ``rbcl``, which wraps libsodium's ristretto255 functions and bundles
libsodium in its wheels (PyNaCl 1.6 does not expose ristretto255; docs/decisions/0012).
"""

import hashlib
import hmac

import rbcl as bindings

DOMAIN = b"openmnr-urllist-oprf-v1"
ELEMENT_BYTES = 32
SCALAR_BYTES = 32


class OprfError(ValueError):
    """An element that is not a valid ristretto255 point, or a response that does not fit."""


def hash_to_group(expression: str) -> bytes:
    """The group element of an expression (hash-to-group through ristretto255's from_hash)."""
    digest = hashlib.sha512(DOMAIN + b"|element|" + expression.encode("ascii")).digest()
    return bindings.crypto_core_ristretto255_from_hash(digest)


def output(expression: str, evaluated: bytes) -> bytes:
    """The OPRF's output for an expression, from k·H2G(expression)."""
    return hashlib.sha256(DOMAIN + b"|output|" + expression.encode("ascii") + b"|" + evaluated).digest()


def derive_key(secret: bytes) -> bytes:
    """The server's OPRF scalar, derived from a secret of at least 32 bytes (never zero)."""
    scalar = bindings.crypto_core_ristretto255_scalar_reduce(
        hashlib.sha512(DOMAIN + b"|key|" + secret).digest()
    )
    if scalar == bytes(SCALAR_BYTES):
        raise OprfError("the secret derives a zero key")
    return scalar


def _check_point(element: bytes) -> bytes:
    if not isinstance(element, bytes | bytearray) or len(element) != ELEMENT_BYTES:
        raise OprfError("a group element is 32 bytes")
    if not bindings.crypto_core_ristretto255_is_valid_point(bytes(element)):
        raise OprfError("not a valid ristretto255 element")
    return bytes(element)


def blind(expression: str, blinding: bytes | None = None) -> tuple[bytes, bytes]:
    """(blinding scalar, blinded element) for an expression; the scalar stays with the client."""
    r = blinding if blinding is not None else bindings.crypto_core_ristretto255_scalar_random()
    return r, bindings.crypto_scalarmult_ristretto255(r, hash_to_group(expression))


def evaluate(key: bytes, blinded: bytes) -> bytes:
    """The server's step: k·B, for a valid non-identity element only."""
    try:
        return bindings.crypto_scalarmult_ristretto255(key, _check_point(blinded))
    except Exception as error:  # libsodium refuses the identity element
        if isinstance(error, OprfError):
            raise
        raise OprfError("the element cannot be evaluated") from None


def evaluate_entry(key: bytes, expression: str) -> bytes:
    """What the server stores for one listed expression: its output, computed with k directly."""
    return output(expression, bindings.crypto_scalarmult_ristretto255(key, hash_to_group(expression)))


def finalize(expression: str, blinding: bytes, evaluated: bytes) -> bytes:
    """The client's step: unblind k·r·P into k·P and hash it into the output."""
    unblinded = bindings.crypto_scalarmult_ristretto255(
        bindings.crypto_core_ristretto255_scalar_invert(blinding), _check_point(evaluated)
    )
    return output(expression, unblinded)


def is_listed(expression: str, blinding: bytes, evaluated: bytes, outputs: list[bytes]) -> bool:
    mine = finalize(expression, blinding, evaluated)
    return any(hmac.compare_digest(mine, other) for other in outputs)

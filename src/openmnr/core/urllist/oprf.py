"""Private confirmation of a prefix hit: RFC 9497's VOPRF (mode 0x01, ristretto255-SHA512), built
on libsodium's ristretto255 through rbcl.

A prefix hit says only "maybe". Asking the server for the full hashes of the bucket tells the
server the bucket, which is already little (a 4-byte bucket holds any of billions of URLs); the
OPRF exchange reveals nothing more and also keeps the *other* entries of the bucket from the
client:

    client:  P = HashToGroup(expression);  r random;  B = r·P             --- prefix, B --->
    server:  Z = k·B;  proof that log_G(pkS) = log_B(Z);
             outputs = {Finalize(e, k·HashToGroup(e)) for each listed e}   <--- Z, proof, outputs
    client:  verify the proof against pkS;  N = r⁻¹·Z = k·P;  listed <=> Finalize(expression, N) in outputs

Privacy: the server sees the prefix and B = r·P for r uniform over the non-zero scalars; the group
has prime order, so B is uniform whatever P is, the same for every URL of the bucket.

Verifiability: without the proof a server could answer with another key for one licensee (or one
bucket) and so tell apart, later, which element came back. The DLEQ proof (a Chaum-Pedersen proof
made non-interactive with SHA-512, RFC 9497 section 2.2) shows that Z was computed with the scalar
whose public key pkS = k·G is in the signed snapshot (``oprf_public_key``), and the client refuses
an answer whose proof does not hold (``OprfError``).

Why byte-exact RFC 9497: the suite's test vectors (appendix A.1.2) then pin the whole construction
(expand_message_xmd, the domain strings, the transcripts, the proof) to the standard instead of to
itself, and any other RFC 9497 implementation can be a licensee's client. The server key is
``DeriveKeyPair(secret, "openmnr-urllist")``. rbcl wraps libsodium's ristretto255 functions and
bundles libsodium in its wheels (PyNaCl 1.6 does not expose them; docs/decisions/0012, 0019).
"""

import hashlib
import hmac

import rbcl as bindings

MODE_VOPRF = 0x01
CONTEXT = b"OPRFV1-" + bytes([MODE_VOPRF]) + b"-ristretto255-SHA512"
KEY_INFO = b"openmnr-urllist"
ELEMENT_BYTES = 32
SCALAR_BYTES = 32
PROOF_BYTES = 64


class OprfError(ValueError):
    """An element that is not a valid ristretto255 point, a proof that does not hold, or a
    response that does not fit."""


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def _framed(*parts: bytes) -> bytes:
    return b"".join(_i2osp(len(p), 2) + p for p in parts)


def expand_message_xmd(message: bytes, dst: bytes, length: int = 64) -> bytes:
    """RFC 9380 section 5.3.1 with SHA-512 (block 128 bytes, output 64)."""
    if len(dst) > 255 or length > 255 * 64:
        raise OprfError("expand_message_xmd: DST or length out of range")
    dst_prime = dst + _i2osp(len(dst), 1)
    b0 = hashlib.sha512(bytes(128) + message + _i2osp(length, 2) + b"\x00" + dst_prime).digest()
    blocks = [hashlib.sha512(b0 + b"\x01" + dst_prime).digest()]
    while 64 * len(blocks) < length:
        mixed = bytes(x ^ y for x, y in zip(b0, blocks[-1], strict=True))
        blocks.append(hashlib.sha512(mixed + _i2osp(len(blocks) + 1, 1) + dst_prime).digest())
    return b"".join(blocks)[:length]


def _hash_to_group_bytes(data: bytes) -> bytes:
    return bindings.crypto_core_ristretto255_from_hash(expand_message_xmd(data, b"HashToGroup-" + CONTEXT))


def hash_to_scalar(data: bytes, dst: bytes = b"HashToScalar-" + CONTEXT) -> bytes:
    return bindings.crypto_core_ristretto255_scalar_reduce(expand_message_xmd(data, dst))


def hash_to_group(expression: str | bytes) -> bytes:
    """The group element of an expression (RFC 9497 HashToGroup)."""
    data = expression.encode("ascii") if isinstance(expression, str) else expression
    return _hash_to_group_bytes(data)


def output(expression: str | bytes, evaluated: bytes) -> bytes:
    """RFC 9497 Finalize's hash: the OPRF's output for an expression, from k·HashToGroup(expression)."""
    data = expression.encode("ascii") if isinstance(expression, str) else expression
    return hashlib.sha512(_framed(data, evaluated) + b"Finalize").digest()


def derive_key_pair(seed: bytes, info: bytes = KEY_INFO) -> tuple[bytes, bytes]:
    """RFC 9497 DeriveKeyPair: (skS, pkS) from a seed of at least 32 bytes."""
    derive_input = seed + _framed(info)
    for counter in range(256):
        scalar = hash_to_scalar(derive_input + _i2osp(counter, 1), b"DeriveKeyPair" + CONTEXT)
        if scalar != bytes(SCALAR_BYTES):
            return scalar, bindings.crypto_scalarmult_ristretto255_base(scalar)
    raise OprfError("DeriveKeyPair found no key")  # probability 2^-2000: never


def derive_key(secret: bytes) -> bytes:
    """The server's OPRF scalar, derived from a secret of at least 32 bytes."""
    return derive_key_pair(secret)[0]


def public_key(key: bytes) -> bytes:
    """pkS = k·G: what the signed snapshot publishes and the client checks proofs against."""
    return bindings.crypto_scalarmult_ristretto255_base(key)


def _check_point(element: bytes) -> bytes:
    if not isinstance(element, bytes | bytearray) or len(element) != ELEMENT_BYTES:
        raise OprfError("a group element is 32 bytes")
    if not bindings.crypto_core_ristretto255_is_valid_point(bytes(element)):
        raise OprfError("not a valid ristretto255 element")
    return bytes(element)


def _mul(scalar: bytes, element: bytes) -> bytes:
    try:
        return bindings.crypto_scalarmult_ristretto255(scalar, element)
    except Exception:  # libsodium refuses a result that is the identity element
        raise OprfError("the element cannot be evaluated") from None


def blind(expression: str | bytes, blinding: bytes | None = None) -> tuple[bytes, bytes]:
    """(blinding scalar, blinded element) for an expression; the scalar stays with the client."""
    r = blinding if blinding is not None else bindings.crypto_core_ristretto255_scalar_random()
    return r, _mul(r, hash_to_group(expression))


def evaluate(key: bytes, blinded: bytes) -> bytes:
    """The server's step: k·B, for a valid non-identity element only."""
    return _mul(key, _check_point(blinded))


def _composites(pk: bytes, blinded: list[bytes], evaluated: list[bytes]) -> tuple[bytes, bytes]:
    """RFC 9497 ComputeComposites: M = Σ dᵢ·Cᵢ and Z = Σ dᵢ·Dᵢ with dᵢ bound to pkS and the batch."""
    seed = hashlib.sha512(_framed(pk, b"Seed-" + CONTEXT)).digest()
    m = z = None
    for i, (c, d) in enumerate(zip(blinded, evaluated, strict=True)):
        transcript = _framed(seed) + _i2osp(i, 2) + _framed(c, d) + b"Composite"
        di = hash_to_scalar(transcript)
        mc, zd = _mul(di, c), _mul(di, d)
        m = mc if m is None else bindings.crypto_core_ristretto255_add(m, mc)
        z = zd if z is None else bindings.crypto_core_ristretto255_add(z, zd)
    if m is None or z is None:
        raise OprfError("a proof covers at least one element")
    return m, z


def _challenge(pk: bytes, m: bytes, z: bytes, t2: bytes, t3: bytes) -> bytes:
    return hash_to_scalar(_framed(pk, m, z, t2, t3) + b"Challenge")


def prove(key: bytes, blinded: list[bytes], evaluated: list[bytes], nonce: bytes | None = None) -> bytes:
    """RFC 9497 GenerateProof (c ‖ s, 64 bytes) that every evaluated element is k times its blinded
    element, for the k whose public key is pkS. ``nonce`` is for test vectors only."""
    pk = public_key(key)
    m, z = _composites(pk, blinded, evaluated)
    r = nonce if nonce is not None else bindings.crypto_core_ristretto255_scalar_random()
    t2, t3 = bindings.crypto_scalarmult_ristretto255_base(r), _mul(r, m)
    c = _challenge(pk, m, z, t2, t3)
    s = bindings.crypto_core_ristretto255_scalar_sub(r, bindings.crypto_core_ristretto255_scalar_mul(c, key))
    return c + s


def verify_proof(pk: bytes, blinded: list[bytes], evaluated: list[bytes], proof: bytes) -> None:
    """RFC 9497 VerifyProof; raises OprfError unless the proof holds for ``pk``."""
    if not isinstance(proof, bytes | bytearray) or len(proof) != PROOF_BYTES:
        raise OprfError("a proof is 64 bytes")
    pk = _check_point(pk)
    evaluated = [_check_point(e) for e in evaluated]
    c, s = bytes(proof[:32]), bytes(proof[32:])
    m, z = _composites(pk, blinded, evaluated)
    try:
        t2 = bindings.crypto_core_ristretto255_add(
            bindings.crypto_scalarmult_ristretto255_base(s), bindings.crypto_scalarmult_ristretto255(c, pk)
        )
        t3 = bindings.crypto_core_ristretto255_add(
            bindings.crypto_scalarmult_ristretto255(s, m), bindings.crypto_scalarmult_ristretto255(c, z)
        )
    except Exception:  # an identity on the way: no honest proof gives one
        raise OprfError("the server's proof does not hold") from None
    if not hmac.compare_digest(_challenge(pk, m, z, t2, t3), c):
        raise OprfError("the server's proof does not hold: it did not use the list's published key")


def evaluate_entry(key: bytes, expression: str | bytes) -> bytes:
    """What the server returns for one listed expression: RFC 9497 Evaluate (k used directly)."""
    return output(expression, _mul(key, hash_to_group(expression)))


def finalize(expression: str | bytes, blinding: bytes, evaluated: bytes) -> bytes:
    """The client's step: unblind k·r·P into k·P and hash it into the output (RFC 9497 Finalize)."""
    unblinded = _mul(bindings.crypto_core_ristretto255_scalar_invert(blinding), _check_point(evaluated))
    return output(expression, unblinded)


def is_listed(expression: str, blinding: bytes, evaluated: bytes, outputs: list[bytes]) -> bool:
    mine = finalize(expression, blinding, evaluated)
    return any(hmac.compare_digest(mine, other) for other in outputs)

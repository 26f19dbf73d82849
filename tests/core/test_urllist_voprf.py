"""The confirmation's VOPRF is RFC 9497's (ristretto255-SHA512, VOPRF mode): the appendix A.1.2 test
vectors, and a client that refuses an evaluation made with another key than the published one."""

import pytest

from openmnr.core.urllist import oprf

SEED = bytes.fromhex("a3" * 32)
KEY_INFO = bytes.fromhex("74657374206b6579")  # "test key"
SKSM = "e6f73f344b79b379f1a0dd37e07ff62e38d9f71345ce62ae3a9bc60b04ccd909"
PKSM = "c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e"
BLIND = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"

# RFC 9497, appendix A.1.2 (ristretto255-SHA512, VOPRF mode), test vectors 1 and 2 (batch size 1).
VECTORS = [
    (
        "00",
        "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945",
        "aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e",
        "ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd06"
        "6d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d",
        "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7d"
        "a4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c",
    ),
    (
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
        "cc0b2a350101881d8a4cba4c80241d74fb7dcbfde4a61fde2f91443c2bf9ef0c",
        "60a59a57208d48aca71e9e850d22674b611f752bed48b36f7a91b372bd7ad468",
        "401a0da6264f8cf45bb2f5264bc31e109155600babb3cd4e5af7d181a2c9dc0a"
        "67154fabf031fd936051dec80b0b6ae29c9503493dde7393b722eafdf5a50b02",
        "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60"
        "356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6",
    ),
]
NONCE = "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e"


def test_the_key_pair_is_derived_as_rfc_9497_derives_it():
    sk, pk = oprf.derive_key_pair(SEED, KEY_INFO)
    assert (sk.hex(), pk.hex()) == (SKSM, PKSM)


@pytest.mark.parametrize(("message", "blinded", "evaluated", "proof", "output"), VECTORS)
def test_rfc_9497_voprf_vectors(message, blinded, evaluated, proof, output):
    sk, pk = bytes.fromhex(SKSM), bytes.fromhex(PKSM)
    data = bytes.fromhex(message)
    blinding, element = oprf.blind(data, bytes.fromhex(BLIND))
    assert element.hex() == blinded
    z = oprf.evaluate(sk, element)
    assert z.hex() == evaluated
    made = oprf.prove(sk, [element], [z], nonce=bytes.fromhex(NONCE))
    assert made.hex() == proof
    oprf.verify_proof(pk, [element], [z], made)
    assert oprf.finalize(data, blinding, z).hex() == output
    assert oprf.evaluate_entry(sk, data).hex() == output


def test_rfc_9497_voprf_vector_3_batch_of_two():
    sk, pk = bytes.fromhex(SKSM), bytes.fromhex(PKSM)
    blinded = [
        "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945",
        "90a0145ea9da29254c3a56be4fe185465ebb3bf2a1801f7124bbbadac751e654",
    ]
    evaluated = [oprf.evaluate(sk, bytes.fromhex(b)) for b in blinded]
    assert evaluated[1].hex() == "cc5ac221950a49ceaa73c8db41b82c20372a4c8d63e5dded2db920b7eee36a2a"
    nonce = bytes.fromhex("419c4f4f5052c53c45f3da494d2b67b220d02118e0857cdbcf037f9ea84bbe0c")
    proof = oprf.prove(sk, [bytes.fromhex(b) for b in blinded], evaluated, nonce=nonce)
    assert proof.hex() == (
        "cc203910175d786927eeb44ea847328047892ddf8590e723c37205cb74600b0a"
        "5ab5337c8eb4ceae0494c2cf89529dcf94572ed267473d567aeed6ab873dee08"
    )
    oprf.verify_proof(pk, [bytes.fromhex(b) for b in blinded], evaluated, proof)


def test_a_proof_for_another_key_or_another_element_is_refused():
    honest, _ = oprf.derive_key_pair(b"h" * 32)
    rogue, _ = oprf.derive_key_pair(b"r" * 32)
    published = oprf.public_key(honest)
    _, blinded = oprf.blind("bad.example/")
    # A server that evaluates with another key, and proves honestly for that key: refused.
    z = oprf.evaluate(rogue, blinded)
    with pytest.raises(oprf.OprfError):
        oprf.verify_proof(published, [blinded], [z], oprf.prove(rogue, [blinded], [z]))
    # The right key but a proof about another element, or a damaged proof: refused.
    z = oprf.evaluate(honest, blinded)
    proof = oprf.prove(honest, [blinded], [z])
    oprf.verify_proof(published, [blinded], [z], proof)
    _, other = oprf.blind("other.example/")
    with pytest.raises(oprf.OprfError):
        oprf.verify_proof(published, [other], [z], proof)
    with pytest.raises(oprf.OprfError):
        oprf.verify_proof(published, [blinded], [z], proof[:32] + bytes(reversed(proof[32:])))

"""The URL list without Django: signed snapshots and diffs, the blinded confirmation, the client."""

import base64
import hashlib
import itertools

import pytest
import rbcl
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openmnr.core.urllist import listformat, oprf
from openmnr.core.urllist.client import UrlListClient, UrlListError
from openmnr.core.urllist.expressions import expression_hash

KEY = Ed25519PrivateKey.generate()
OPRF_KEY = oprf.derive_key(b"k" * 32)
ROGUE_KEY = oprf.derive_key(b"r" * 32)


class FakeServer:
    """The server side in memory: what it holds, and everything it was told (its view)."""

    def __init__(self, expressions: list[str], *, evaluation_key: bytes = OPRF_KEY):
        self.versions: dict[int, set[str]] = {1: set(expressions)}
        self.views: list[tuple] = []
        self.evaluation_key = evaluation_key  # what it evaluates with; the list always names OPRF_KEY's

    @property
    def version(self):
        return max(self.versions)

    def publish(self, expressions):
        self.versions[self.version + 1] = set(expressions)

    def _prefixes(self, version):
        return {expression_hash(e)[:4] for e in self.versions[version]}

    def snapshot(self):
        return listformat.sign(
            listformat.snapshot_payload(
                "csam-urls",
                self.version,
                self._prefixes(self.version),
                prefix_bytes=4,
                min_wait=300,
                generated_at="t",
                oprf_public_key=oprf.public_key(OPRF_KEY),
            ),
            KEY,
        )

    def diff(self, from_version):
        return listformat.sign(
            listformat.diff_payload(
                "csam-urls",
                from_version,
                self._prefixes(from_version),
                self.version,
                self._prefixes(self.version),
                prefix_bytes=4,
                min_wait=300,
                generated_at="t",
                oprf_public_key=oprf.public_key(OPRF_KEY),
            ),
            KEY,
        )

    def confirm(self, prefix, blinded):
        self.views.append((prefix, blinded))
        bucket = [e for e in self.versions[self.version] if expression_hash(e)[:4] == prefix]
        key = self.evaluation_key
        evaluated = oprf.evaluate(key, blinded)
        return {
            "evaluated": base64.b64encode(evaluated).decode(),
            "proof": base64.b64encode(oprf.prove(key, [blinded], [evaluated])).decode(),
            "outputs": [base64.b64encode(oprf.evaluate_entry(key, e)).decode() for e in bucket],
        }


def _client(server):
    client = UrlListClient(server, KEY.public_key())
    client.update(now=0)
    return client


def test_a_listed_url_is_found_in_any_spelling_and_an_unlisted_one_is_not():
    server = FakeServer(["bad.example/gallery/1.html", "worse.example/"])
    client = _client(server)
    assert client.check("http://BAD.example/gallery/./1.html#x").listed
    assert client.check("https://sub.worse.example/any/page?q=1").expression == "worse.example/"
    assert not client.check("http://bad.example/gallery/2.html").listed
    # Only prefix hits reach the server; an unlisted URL with no hit sends nothing at all.
    before = len(server.views)
    client.check("http://good.example/")
    assert len(server.views) == before


def test_diffs_bring_the_client_to_the_servers_state_and_removed_entries_stop_matching():
    server = FakeServer(["a.example/1", "b.example/2", "c.example/3"])
    client = _client(server)
    server.publish(["a.example/1", "d.example/4"])  # b and c removed, d added
    assert not client.update(now=10), "the minimum wait is kept"
    assert client.update(now=301)
    assert client.state.version == 2
    assert client.state.prefixes == sorted(expression_hash(e)[:4] for e in ["a.example/1", "d.example/4"])
    assert client.check("http://d.example/4").listed and not client.check("http://b.example/2").listed


def test_a_tampered_or_misapplied_document_is_refused_and_the_state_kept():
    server = FakeServer(["a.example/1"])
    client = _client(server)
    document = server.snapshot()
    document["payload"]["count"] = 99
    with pytest.raises(listformat.ListFormatError, match="signed"):
        client._apply(document)
    other_key = Ed25519PrivateKey.generate()
    forged = listformat.sign(server.snapshot()["payload"], other_key)
    with pytest.raises(listformat.ListFormatError):
        client._apply(forged)
    # A diff whose checksum does not match what it produces is refused too.
    server.publish(["a.example/1", "b.example/2"])
    payload = server.diff(1)["payload"]
    payload["checksum"] = "0" * 64
    with pytest.raises(listformat.ListFormatError, match="checksum"):
        client._apply(listformat.sign(payload, KEY))
    assert client.state.version == 1 and len(client.state.prefixes) == 1


def _two_expressions_in_one_bucket() -> tuple[str, str]:
    seen: dict[bytes, str] = {}
    for n in itertools.count():
        expression = f"site{n}.example/"
        prefix = hashlib.sha256(expression.encode()).digest()[:4]
        if prefix in seen:
            return seen[prefix], expression
        seen[prefix] = expression


def test_the_servers_view_is_the_same_for_two_urls_in_one_bucket():
    """The server sees the bucket and a blinded element; for two URLs of one bucket the bucket is
    the same, and the element is r·P for a uniformly random non-zero scalar r, which (the group
    having prime order) is the same uniform distribution for every P. Shown here: the prefixes are
    equal, nothing else is sent, and the blinded element is the URL's point under a scalar only the
    client knows (unblinding it gives back the URL's own point)."""
    listed, other = _two_expressions_in_one_bucket()
    server = FakeServer([listed])
    client = _client(server)
    assert client.check(f"http://{listed}").listed
    assert not client.check(f"http://{other}").listed
    (prefix_a, blinded_a), (prefix_b, blinded_b) = server.views
    assert prefix_a == prefix_b == expression_hash(listed)[:4]
    assert blinded_a != blinded_b
    for expression, blinded in ((listed, blinded_a), (other, blinded_b)):
        assert len(blinded) == 32 and oprf.hash_to_group(expression) != blinded
    # With the same blinding scalar the exchange is reproducible, so the only URL-dependent part is
    # r·P: and for a fixed element B, each of the two URLs has exactly one scalar giving B.
    r = oprf.blind(listed)[0]
    for expression in (listed, other):
        _, blinded = oprf.blind(expression, r)
        unblinded = rbcl.crypto_scalarmult_ristretto255(
            rbcl.crypto_core_ristretto255_scalar_invert(r), blinded
        )
        assert unblinded == oprf.hash_to_group(expression)


def test_the_client_learns_nothing_of_the_other_entries_in_the_bucket():
    listed, other = _two_expressions_in_one_bucket()
    server = FakeServer([listed, other])
    blinding, blinded = oprf.blind("unrelated.example/")
    answer = server.confirm(expression_hash(listed)[:4], blinded)
    outputs = [base64.b64decode(o) for o in answer["outputs"]]
    assert len(outputs) == 2
    # The outputs are not the entries' hashes: without the server's key they name nothing.
    assert expression_hash(listed) not in outputs and expression_hash(other) not in outputs
    assert not oprf.is_listed("unrelated.example/", blinding, base64.b64decode(answer["evaluated"]), outputs)


def test_the_server_refuses_elements_that_are_not_group_elements():
    for bad in (bytes(32), b"\xff" * 32, b"short"):
        with pytest.raises(oprf.OprfError):
            oprf.evaluate(OPRF_KEY, bad)


def test_the_state_file_round_trips_and_detects_damage(tmp_path):
    server = FakeServer(["a.example/1", "b.example/"])
    client = _client(server)
    path = tmp_path / "state.json"
    client.save(path)
    again = UrlListClient.load(path, server, KEY.public_key())
    assert again.state.prefixes == client.state.prefixes and again.check("http://b.example/x").listed
    path.write_text(path.read_text().replace('"checksum": "', '"checksum": "0', 1))
    with pytest.raises(listformat.ListFormatError):
        UrlListClient.load(path, server, KEY.public_key())


@pytest.mark.parametrize("width", [4, 8])
def test_a_diff_takes_any_state_to_the_next_for_every_prefix_length(width):
    import random

    rng = random.Random(width)
    old = {rng.randbytes(width) for _ in range(500)}
    new = (old - set(sorted(old)[::7])) | {rng.randbytes(width) for _ in range(60)}
    snapshot = listformat.snapshot_payload("x", 1, old, prefix_bytes=width, min_wait=1, generated_at="t")
    state = listformat.apply(listformat.ListState("x"), snapshot)
    diff = listformat.diff_payload("x", 1, old, 2, new, prefix_bytes=width, min_wait=1, generated_at="t")
    after = listformat.apply(state, diff)
    assert after.prefixes == sorted(new) and after.version == 2
    assert len(base64.b64decode(diff["removals"])) == 4 * len(old - new)


def test_a_server_that_evaluates_with_another_key_than_the_published_one_is_refused():
    """A server could answer one licensee with a key of its own, to recognise its elements later;
    the proof binds every answer to the key in the signed list, and the client refuses the rest."""
    honest = _client(FakeServer(["bad.example/"]))
    assert honest.check("http://bad.example/x").listed
    rogue = FakeServer(["bad.example/"], evaluation_key=ROGUE_KEY)
    client = _client(rogue)
    with pytest.raises(UrlListError, match="proof does not hold"):
        client.check("http://bad.example/x")
    # A URL without a prefix hit never reaches the server, whatever its key.
    assert not client.check("http://good.example/").listed and len(rogue.views) == 1


def test_a_batch_answers_each_url_in_order_and_marks_the_odd_one():
    client = _client(FakeServer(["bad.example/gallery/"]))
    results = client.check_many(
        [
            "https://bad.example/gallery/1.jpg",
            "ftp://bad.example/",
            "https://good.example/",
            b"http://BAD.example/gallery/",
        ]
    )
    assert [(r.listed, r.invalid) for r in results] == [
        (True, False),
        (False, True),
        (False, False),
        (True, False),
    ]

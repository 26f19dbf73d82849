"""The audit chain is keyed and anchored: the three tamperings an outside tester got past the old
chain (the last events deleted and the head updated; one actor changed and every later hash
recomputed; every failed sign-in deleted and the chain renumbered) are all caught, whether the
intruder lacks the audit key (the keyed hashes) or holds it (the checkpoint outside the database)."""

import base64
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
from django.db import connection

from openmnr import cli
from openmnr.audit import checkpoints, keys, services
from openmnr.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from openmnr.audit.triggers import lifted as intruder

pytestmark = pytest.mark.django_db


def _cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def _activity(failed_sign_ins=6, other=10):
    """Events as a day of use leaves them: successes and failed sign-ins interleaved."""
    for i in range(other):
        services.record("test.event", object_type="test", object_id=str(i), detail={"i": i})
        if i < failed_sign_ins:
            services.record(
                "sign_in", outcome=services.FAILURE, object_type="auth.user", detail={"username": "x"}
            )


def _rechain(key, from_seq=1):
    """Recompute the links and hashes of every event from `from_seq` on, and the head, as an
    intruder covering their tracks does: with `key` (one who stole it) or as plain SHA-256 (one who
    did not)."""
    before = AuditEvent.objects.filter(seq__lt=from_seq).order_by("seq").last()
    prev = before.hash if before else GENESIS_HASH
    with intruder():
        for event in AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq"):
            event.prev_hash = prev
            event.hash = services.chain_hash(prev, event, key)
            AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
            prev = event.hash
        last = AuditEvent.objects.order_by("seq").last()
        AuditHead.objects.filter(pk=1).update(seq=last.seq, hash=last.hash)


def _delete_last(n):
    keep = AuditEvent.objects.order_by("-seq")[n]
    with intruder():
        AuditEvent.objects.filter(seq__gt=keep.seq).delete()
    AuditHead.objects.filter(pk=1).update(seq=keep.seq, hash=keep.hash)


def _change_actor(seq, actor):
    with intruder():
        AuditEvent.objects.filter(seq=seq).update(actor=actor)


def _delete_failed_sign_ins_and_renumber():
    with intruder():
        AuditEvent.objects.filter(action="sign_in", outcome="failure").delete()
        for number, event in enumerate(AuditEvent.objects.order_by("seq"), 1):
            AuditEvent.objects.filter(pk=event.pk).update(seq=number)


def test_every_event_is_an_hmac_under_a_key_that_is_not_in_the_database():
    _activity()
    key = keys.audit_key()
    assert services.verify().ok
    for event in AuditEvent.objects.order_by("seq"):
        assert event.hash == services.chain_hash(event.prev_hash, event, key)
        assert event.hash != hashlib.sha256(event.prev_hash.encode() + services.canonical(event)).hexdigest()
    with connection.cursor() as cursor:  # the key is nowhere in the database
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            dump = repr(cursor.fetchall())
            for form in (key.hex(), base64.b64encode(key).decode(), repr(key)[2:-1]):
                assert form not in dump, table


def test_deleting_the_last_events_and_updating_the_head_is_caught_by_the_checkpoint():
    _activity()
    assert checkpoints.write() is not None
    _delete_last(5)
    result = services.verify()
    assert not result.ok and "events were removed" in result.reason
    code, _, err = _cli("audit", "verify")
    assert code == 1 and "events were removed" in err


@pytest.mark.parametrize("intruder_holds_the_key", [False, True])
def test_changing_an_actor_and_recomputing_every_later_hash_is_caught(intruder_holds_the_key):
    _activity()
    checkpoints.write()
    target = AuditEvent.objects.order_by("seq")[3]
    _change_actor(target.seq, "someone-else")
    _rechain(keys.audit_key() if intruder_holds_the_key else None, from_seq=target.seq)
    result = services.verify()
    assert not result.ok
    if intruder_holds_the_key:  # the chain itself is consistent again; the checkpoint is not fooled
        assert "rewritten" in result.reason
    else:
        assert result.broken_seq == target.seq


@pytest.mark.parametrize("intruder_holds_the_key", [False, True])
def test_deleting_the_failed_sign_ins_and_renumbering_is_caught(intruder_holds_the_key):
    _activity()
    checkpoints.write()
    before = AuditEvent.objects.count()
    _delete_failed_sign_ins_and_renumber()
    assert AuditEvent.objects.count() == before - 6
    _rechain(keys.audit_key() if intruder_holds_the_key else None)
    result = services.verify()
    assert not result.ok
    if intruder_holds_the_key:
        assert "events were removed" in result.reason


def test_without_a_checkpoint_an_intruder_with_the_key_could_rewrite_so_the_clock_writes_one():
    """Why checkpoints exist, and that the worker's clock writes one whenever the chain grew."""
    from openmnr.web import clock

    assert "openmnr.audit.checkpoints.tick" in clock.JOBS
    _activity()
    checkpoints.tick()
    first = checkpoints.latest()
    checkpoints.tick()  # nothing new: no new line
    assert checkpoints.latest() == first
    services.record("test.later")
    checkpoints.tick()
    assert checkpoints.latest().seq == first.seq + 1
    files = list(checkpoints.Path(checkpoints.settings.AUDIT_CHECKPOINT_DIR).glob("*.jsonl"))
    assert len(files) == 1 and len(files[0].read_text().splitlines()) == 2


def test_a_forged_or_altered_checkpoint_is_refused():
    _activity()
    checkpoints.write()
    [path] = checkpoints.Path(checkpoints.settings.AUDIT_CHECKPOINT_DIR).glob("*.jsonl")
    line = json.loads(path.read_text())
    line["seq"] -= 3  # to hide the last three events' removal
    path.write_text(json.dumps(line) + "\n")
    result = services.verify()
    assert not result.ok and "signature does not verify" in result.reason


def test_no_checkpoint_is_written_over_a_broken_chain():
    """Each checkpoint checks the events since the previous one before it vouches for them."""
    _activity()
    checkpoints.write()
    _activity(failed_sign_ins=0, other=3)
    _change_actor(AuditEvent.objects.order_by("seq").last().seq - 1, "someone-else")
    with pytest.raises(services.ChainBroken):
        checkpoints.write()
    code, _, err = _cli("audit", "checkpoint")
    assert code == 1 and "does not verify" in err


def test_a_chain_written_before_the_key_is_kept_and_the_first_keyed_event_records_the_switch():
    from datetime import UTC, datetime

    with intruder():  # start from an empty table (the test database's migrations wrote events)
        AuditEvent.objects.all().delete()
    prev = GENESIS_HASH
    for seq in range(1, 4):  # three events as the unkeyed chain wrote them
        event = AuditEvent(
            seq=seq,
            at=datetime.now(UTC),
            actor="system",
            action="old.event",
            outcome="success",
            prev_hash=prev,
        )
        event.hash = services.chain_hash(prev, event, None)
        event.save(force_insert=True)
        prev = event.hash
    AuditHead.objects.update_or_create(pk=1, defaults={"seq": 3, "hash": prev, "keyed_from": None})
    result = services.verify()
    assert result.ok and result.keyed_from is None
    assert "NOT keyed yet" in _cli("audit", "verify")[1]

    services.record("test.new")
    switch, new = AuditEvent.objects.filter(seq__in=[4, 5]).order_by("seq")
    assert switch.action == services.SWITCH_ACTION
    assert switch.detail == {"key_id": keys.key_id(), "unkeyed_events": 3}
    assert new.action == "test.new"
    result = services.verify()
    assert result.ok and result.keyed_from == 4 and result.events == 5
    # The old events are now bound by the keyed switch: change one and recompute the old way.
    checkpoints.write()
    _change_actor(2, "someone-else")
    with intruder():
        prev = GENESIS_HASH
        for event in AuditEvent.objects.filter(seq__lte=3).order_by("seq"):
            event.prev_hash, event.hash = prev, services.chain_hash(prev, event, None)
            AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, hash=event.hash)
            prev = event.hash
    assert services.verify().broken_seq == 4


def test_an_intruder_cannot_make_the_chain_unkeyed_again():
    _activity()
    checkpoints.write()
    _rechain(None)  # every event as plain SHA-256: a chain that verifies on its own
    result = services.verify()
    assert not result.ok


def test_the_syslog_witness_gets_each_checkpoint_and_verify_can_use_its_copy(settings, tmp_path):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    settings.AUDIT_SYSLOG = f"127.0.0.1:{receiver.getsockname()[1]}"
    try:
        _activity()
        written = checkpoints.write()
        message = receiver.recv(65536).decode()
    finally:
        receiver.close()
    assert "openmnr-audit-checkpoint" in message and f'"seq":{written.seq}' in message
    witness = tmp_path / "witness.log"
    witness.write_text(message + "\n")

    # The intruder removes the last events, and the checkpoint folder with them.
    _delete_last(4)
    for path in checkpoints.Path(settings.AUDIT_CHECKPOINT_DIR).glob("*"):
        path.unlink()
    assert services.verify().ok  # nothing left here to tell
    code, _, err = _cli("audit", "verify", "--checkpoint", str(witness))
    assert code == 1 and "events were removed" in err


def test_the_cli_writes_a_checkpoint_and_reports_what_it_checked_against():
    _activity()
    code, out, _ = _cli("audit", "checkpoint")
    assert code == 0 and "checkpoint written" in out
    code, out, _ = _cli("audit", "verify")
    assert code == 0 and "intact" in out and "matches the checkpoint of" in out
    code, out, _ = _cli("audit", "key")
    assert code == 0 and len(keys.parse(out.strip())) == 32


def test_production_refuses_to_start_without_an_audit_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "PYTEST", "DATABASE_URL"))}
    env.update(SECRET_KEY="s" * 60, OPENMNR_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "openmnr.cli", "manage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "OPENMNR_AUDIT_KEY" in result.stderr
    env["OPENMNR_AUDIT_KEY_FILE"] = str(tmp_path / "missing.key")
    result = subprocess.run(
        [sys.executable, "-m", "openmnr.cli", "manage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "does not exist" in result.stderr

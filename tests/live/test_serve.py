"""``openmnr live serve`` end to end: a stream published to it, matched against the banks'
snapshot, becomes a live-alert case."""

import threading
import time

import pytest

import live_streams as ls
from openmnr.core.live.frames import QUALITY_THRESHOLD
from openmnr.core.signals import pdq
from openmnr.live import serve
from openmnr.live.models import LiveAlert


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_published_stream_with_a_known_picture_becomes_a_live_alert(settings, shared):
    from django.contrib.auth import get_user_model

    from helpers import new_bank
    from openmnr.banks.models import BankEntry
    from openmnr.banks.snapshots import write_snapshot

    known, benign = ls.known_and_benign()
    listed = [path for path in known if pdq.hash_media(path).quality >= QUALITY_THRESHOLD]
    bank = new_bank("confirmed_csam", name="Confirmed")
    proposer = get_user_model().objects.create(username="proposer")
    entries = {
        BankEntry.objects.create(
            bank=bank,
            signal_type="pdq",
            value=pdq.hash_media(path).value,
            classification="baseline",
            category="A",
            status="active",
            proposed_by=proposer,
        ).pk
        for path in listed
    }
    write_snapshot(settings.BANKS_INDEX_DIR)
    encoded = ls.encode(ls.plan(listed, benign, seconds=5, insertions=1, seed=21), size=(480, 270))
    port = ls.free_port()
    settings.LIVE_STREAMS, settings.LIVE_LISTEN = [], []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve.run, args=([], [f"rtmp://127.0.0.1:{port}/live/platform"], stop), daemon=True
    )
    thread.start()
    try:
        deadline = time.time() + 40
        while time.time() < deadline:  # until the child has started and listens
            publisher = ls.publish_rtmp(encoded, port, speed=2.0)
            publisher.start()
            publisher.finished.wait(60)
            if publisher.error is None:
                break
            time.sleep(0.5)
        assert publisher.error is None
        deadline = time.time() + 40
        while time.time() < deadline and not LiveAlert.objects.filter(ongoing=False).exists():
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(30)
    alert = LiveAlert.objects.get()
    assert alert.stream == f"rtmp://127.0.0.1:{port}/live/platform" and not alert.ongoing
    assert alert.matches and {m["entry_id"] for m in alert.matches} <= entries
    assert alert.matches[0]["bank"] == "Confirmed" and alert.matches[0]["category"] == "A"
    assert alert.stream_end >= alert.stream_start


def test_serve_refuses_addresses_it_cannot_watch(settings, capsys):
    settings.LIVE_STREAMS, settings.LIVE_LISTEN = ["gopher://127.0.0.1/x"], []
    assert serve.run([], []) == 2
    settings.LIVE_STREAMS = []
    assert serve.run([], []) == 2
    assert "no stream" in capsys.readouterr().err

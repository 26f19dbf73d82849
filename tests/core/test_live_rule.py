"""The K-of-W alert rule and the frame sampler, without video."""

import numpy as np
import pytest

from openmnr.core.live.frames import Sampler, hash_frame
from openmnr.core.live.rule import AlertRule, Sample


def feed(rule, pattern, start=0.0):
    """Feed samples 0.5 s apart; '1' matches entry 7, '0' matches nothing. Returns the events."""
    events = []
    for i, char in enumerate(pattern):
        outcome = rule.feed(Sample(start + i * 0.5, 1000.0 + start + i * 0.5, {7: 3} if char == "1" else {}))
        if outcome:
            events.append((i, outcome[0], outcome[1]))
    return events


def test_one_matching_frame_alone_raises_no_alert():
    assert feed(AlertRule("s", k=2, w=4), "0001000000010000") == []


def test_two_of_four_opens_at_the_second_match_and_spans_the_episode():
    events = feed(AlertRule("s", k=2, w=4), "00101111000000")
    (at, kind, episode), (closed_at, closed_kind, _) = events
    assert (at, kind) == (4, "opened")
    assert episode.first_match == 1.0  # the first matching sample in the window, not the trigger
    assert (closed_at, closed_kind) == (11, "closed")  # four samples in a row without a match
    assert episode.last_match == 3.5 and episode.closed
    assert episode.entries == {7: 3} and episode.matching_samples == 5


def test_a_long_replay_is_one_alert():
    events = feed(AlertRule("s", k=2, w=4), "1" * 200 + "0000")
    assert [kind for _, kind, _ in events] == ["opened", "closed"]


def test_closing_at_the_end_of_a_stream_gives_the_open_episode():
    rule = AlertRule("s", k=2, w=4)
    feed(rule, "0111")
    episode = rule.close()
    assert episode is not None and episode.closed and episode.last_match == 1.5
    assert rule.close() is None


def test_bad_rule_settings_are_refused():
    with pytest.raises(ValueError):
        AlertRule("s", k=5, w=4)


def test_sampler_takes_two_a_second_and_every_scene_change():
    sampler = Sampler(rate=2.0)
    flat = np.full((90, 160), 100, np.uint8)
    other = np.full((90, 160), 200, np.uint8)
    times = [i / 30 for i in range(60)]
    chosen = [t for t in times if sampler.want(t, other if t >= 1.3 else flat)]
    # 0, 0.5, 1.0 on time, 1.3 at the cut, then half a second after it.
    assert [round(t, 2) for t in chosen] == [0.0, 0.5, 1.0, 1.3, 1.8]


def test_resolution_change_counts_as_a_scene_change():
    sampler = Sampler(rate=2.0)
    assert sampler.want(0.0, np.zeros((90, 160), np.uint8))
    assert sampler.want(0.03, np.zeros((180, 320), np.uint8))


def test_limited_range_luma_hashes_like_the_picture(shared):
    from PIL import Image

    from openmnr.core.signals import pdq

    path = shared / "corpus" / "natural" / "astronaut-01.jpg"
    listed = pdq.hash_media(path)
    full = np.asarray(Image.open(path).convert("L").resize((1280, 720)))
    video = (16 + full.astype(np.float32) * 219 / 255).astype(np.uint8)
    hashed = hash_frame(video, limited_range=True)
    assert pdq.distance(listed.value, hashed.hashes[0]) <= 16
    assert abs(hashed.quality - listed.quality) <= 5
    mirrored = hash_frame(np.ascontiguousarray(video[:, ::-1]), limited_range=True)
    assert min(pdq.distance(listed.value, h) for h in mirrored.hashes) <= 16
    assert pdq.distance(listed.value, mirrored.hashes[0]) > 64

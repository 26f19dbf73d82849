"""The alert rule: K of the last W sampled frames match the banks.

One frame matching is not enough to raise an alert: a single frame within the radius of a listed
hash happens by chance (rarely, but a service watching thousands of streams looks at millions of
frames a day), and decoding glitches make odd frames. A replayed picture stays on screen, so it
matches on several consecutive samples. Requiring ``k`` of the last ``w`` samples trades latency
(at 2 samples a second, each further required match adds up to half a second) against false
alerts (each further match multiplies the chance of a false alert by the small per-frame rate).
The defaults, 2 of 4, were chosen with bench/live.py (docs/live.md has the figures): the alert
comes at the second matching sample, and the window tolerates one sample in between that does not
match (a transition, a frame of low quality).

An alert is one *episode*: it opens when the rule first holds and stays open while matches keep
coming; it closes when ``w`` samples in a row do not match or the stream ends. So a picture shown
for a minute gives one alert with its whole time span, not 120. ``Episode`` carries the span (stream
time and wall-clock time of the first and last matching sample) and every bank entry that matched.
"""

import secrets
from collections import deque
from dataclasses import dataclass, field

DEFAULT_K = 2
DEFAULT_W = 4


@dataclass
class Episode:
    """One alert: a run of matching samples in one stream session."""

    stream: str
    first_match: float  # stream time (seconds) of the first matching sample in the window
    first_match_wall: float  # time.time() when that sample was decoded
    last_match: float
    last_match_wall: float
    opened_wall: float  # time.time() when the rule first held: the alert's own time
    #: entry id -> smallest distance seen
    entries: dict[int, int] = field(default_factory=dict)
    matching_samples: int = 0
    closed: bool = False
    #: Names the episode across its opened and closed events (random: it says nothing else).
    key: str = field(default_factory=lambda: secrets.token_hex(16))

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "stream": self.stream,
            "first_match": round(self.first_match, 3),
            "last_match": round(self.last_match, 3),
            "first_match_wall": self.first_match_wall,
            "last_match_wall": self.last_match_wall,
            "opened_wall": self.opened_wall,
            "entries": {str(entry): found for entry, found in sorted(self.entries.items())},
            "matching_samples": self.matching_samples,
            "closed": self.closed,
        }


@dataclass(frozen=True)
class Sample:
    """One hashed frame and what it matched (entry id -> distance; empty for no match)."""

    seconds: float
    wall: float
    matches: dict[int, int]


class AlertRule:
    """Feeds samples through the K-of-W window; ``feed`` returns an event when an episode opens
    or closes (see the module docstring)."""

    def __init__(self, stream: str, k: int = DEFAULT_K, w: int = DEFAULT_W):
        if not 1 <= k <= w:
            raise ValueError("the alert rule needs 1 <= K <= W")
        self.stream, self.k, self.w = stream, k, w
        self._window: deque[Sample] = deque(maxlen=w)
        self.episode: Episode | None = None

    def feed(self, sample: Sample) -> tuple[str, Episode] | None:
        """("opened" | "closed", episode) when this sample opens or closes an alert, else None."""
        self._window.append(sample)
        matching = [s for s in self._window if s.matches]
        if self.episode is not None:
            if sample.matches:
                self._extend(self.episode, sample)
            elif not matching:
                return "closed", self.close()
            return None
        if len(matching) >= self.k:
            first = matching[0]
            episode = Episode(
                self.stream, first.seconds, first.wall, first.seconds, first.wall, opened_wall=sample.wall
            )
            for found in matching:
                self._extend(episode, found)
            self.episode = episode
            return "opened", episode
        return None

    def close(self) -> Episode | None:
        """Close the open episode (if any), as at the end of a stream; the window starts empty."""
        episode, self.episode = self.episode, None
        self._window.clear()
        if episode is not None:
            episode.closed = True
        return episode

    @staticmethod
    def _extend(episode: Episode, sample: Sample) -> None:
        episode.last_match, episode.last_match_wall = sample.seconds, sample.wall
        episode.matching_samples += 1
        for entry, found in sample.matches.items():
            if found < episode.entries.get(entry, found + 1):
                episode.entries[entry] = found

"""The optional reveal buffer: the last seconds of sampled frames, sealed with AES-GCM.

Off by default (``--reveal-buffer 0``): then a watcher holds no frame beyond the one being hashed
and nothing here runs. An operator who wants analysts to be able to look at what raised an alert
turns it on with a number of seconds and a key in ``OPENMNR_LIVE_BUFFER_KEY`` (32 random bytes,
URL-safe base64; ``openmnr.core.live.reveal.new_key`` makes one). Then, for each stream:

- every *sampled* frame (two a second and scene changes, not every decoded frame) is scaled to
  ``WIDTH`` pixels wide, greyscale (the luma plane the hash is computed from: no colour
  conversion), JPEG-encoded and at once sealed with AES-256-GCM under a fresh 96-bit random nonce,
  with the stream identifier as associated data (a frame cannot be passed off as another
  stream's). The ring keeps only the sealed bytes of the frames of the last ``seconds`` of stream
  time; older ones are dropped, and the ring is emptied when a session ends.
- when an alert opens, the sealed frames of the ring go out *with the alert event* (and, when it
  closes, those sampled since), never on their own and never to the webhook. The platform stores
  them as they are (still sealed) with an expiry, and decrypts one only to show it, blurred to
  anyone who may see the alert, sharp only after a step-up reveal (``openmnr.live.frames``).

What this costs and what it protects: the plaintext JPEG exists in the process's memory for the
instant between encoding and sealing, as the decoded frame does anyway; nothing unsealed is
written to a disk, a log or a socket. Whoever holds the key and the sealed bytes can see the
frames: the key belongs in the monitor's and the platform's environment only, not in the database
that keeps the sealed frames. The buffer costs one small JPEG encode and one AES-GCM seal per
sampled frame (two a second), next to the decode of thirty frames a second.
"""

import base64
import io
import os
from collections import deque
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image

KEY_ENV = "OPENMNR_LIVE_BUFFER_KEY"
WIDTH = 480
QUALITY = 80
NONCE = 12


class BufferError(ValueError):
    """A missing or malformed key, or sealed bytes that do not open with it."""


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def load_key(value: str | None) -> bytes:
    """The 32-byte key from its base64 text (the environment's ``OPENMNR_LIVE_BUFFER_KEY``)."""
    if not value:
        raise BufferError(f"the reveal buffer needs ${KEY_ENV} (32 random bytes, base64)")
    try:
        key = base64.urlsafe_b64decode(value.strip().encode())
    except ValueError:
        raise BufferError(f"${KEY_ENV} is not base64") from None
    if len(key) != 32:
        raise BufferError(f"${KEY_ENV} must hold 32 bytes (AES-256), not {len(key)}")
    return key


@dataclass(frozen=True)
class SealedFrame:
    """One sampled frame, sealed: its stream time, wall time, and nonce + ciphertext + tag."""

    seconds: float
    wall: float
    sealed: bytes

    def as_dict(self) -> dict:
        return {
            "t": round(self.seconds, 3),
            "wall": self.wall,
            "sealed": base64.b64encode(self.sealed).decode(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "SealedFrame":
        try:
            return cls(float(data["t"]), float(data["wall"]), base64.b64decode(data["sealed"], validate=True))
        except (KeyError, TypeError, ValueError) as error:
            raise BufferError(f"not a sealed frame ({type(error).__name__})") from None


def seal(key: bytes, stream: str, jpeg: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, jpeg, stream.encode())


def unseal(key: bytes, stream: str, sealed: bytes) -> bytes:
    """The JPEG inside ``sealed``; ``BufferError`` if the key, the stream or the bytes are wrong."""
    try:
        return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], stream.encode())
    except (InvalidTag, ValueError):
        raise BufferError("the sealed frame does not open with this key") from None


class RevealBuffer:
    """The ring of one stream (see the module docstring). Not thread-safe: one per watcher."""

    def __init__(self, key: bytes, stream: str, seconds: float):
        if seconds <= 0:
            raise BufferError("a reveal buffer holds a positive number of seconds")
        self.key, self.stream, self.seconds = key, stream, seconds
        self.ring: deque[SealedFrame] = deque()
        self.sent_up_to = float("-inf")

    def add(self, seconds: float, wall: float, luma: np.ndarray) -> None:
        picture = Image.fromarray(np.ascontiguousarray(luma))
        if picture.width > WIDTH:
            picture = picture.resize((WIDTH, max(1, round(picture.height * WIDTH / picture.width))))
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=QUALITY)
        self.ring.append(SealedFrame(seconds, wall, seal(self.key, self.stream, out.getvalue())))
        while self.ring and self.ring[0].seconds < seconds - self.seconds:
            self.ring.popleft()

    def take(self) -> list[dict]:
        """The sealed frames not sent with an earlier event of this session, oldest first."""
        fresh = [frame for frame in self.ring if frame.seconds > self.sent_up_to]
        if fresh:
            self.sent_up_to = fresh[-1].seconds
        return [frame.as_dict() for frame in fresh]

    def clear(self) -> None:
        self.ring.clear()
        self.sent_up_to = float("-inf")

"""Benign pictures and their hashes as the Take it down page computes them."""

import hashlib
import io

import numpy as np
from PIL import Image

from openmnr.core.signals import pdq


def hashes_of(data: bytes) -> dict:
    """What the page sends for a picture: PDQ (as the browser computes it: the full picture), its
    quality, MD5 and SHA-256."""
    hashed = pdq.hash_media(data, mode="reference")
    return {
        "kind": "photo",
        "pdq": hashed.value,
        "pdq_quality": hashed.quality,
        "md5": hashlib.md5(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def flat_picture() -> bytes:
    """A nearly flat picture: its PDQ quality is far below 50."""
    pixels = np.full((300, 400, 3), 128, np.uint8)
    pixels[:, :, 0] += np.random.default_rng(1).integers(0, 2, (300, 400), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()

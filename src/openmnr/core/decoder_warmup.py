"""What the decoders' fork server loads before it forks any decoder: the hashing code, run once.

``openmnr.core.decoders`` starts each decoder from a fork server that has imported the hashing
modules, so a decoder does not import numpy, Pillow and pdqhash again. Importing is not all a first
call does, though. Measured in a fresh decoder on a 712x627 JPEG (2026-12-03, load about 9): the
first probed hash took 83-89 ms against 12-14 ms for the second, and a plain hash 42-46 against
6-11 ms, because the first call still loads, in that decoder, what the libraries load lazily on
first use: Pillow's format plugins (``Image.preinit``, about 65 ms), ``numpy.ma`` behind
``np.median`` (which the border trim calls; about 70 ms), and the probes module itself (about
20 ms). A decoder that is replaced often (local features retire theirs after each call, see
``decoders.RETIRE_GROWTH``; a burst of uploads starts more) paid that every time.

Importing this module (it is in the fork server's preload list) hashes one small synthetic JPEG
with the default query probes, in the server process, so that every decoder forked from it starts
with those already loaded and shared through copy-on-write. The picture is made here, nothing is
read from outside, and a failure is swallowed: warming is an optimisation, and the fork server
must start even if it fails (the first call then pays, as before).
"""

import io

import numpy as np

from openmnr.core.robust import probes
from openmnr.core.signals import pdq

#: Side of the synthetic picture: large enough to be reduced by the JPEG decoder, like uploads.
SIDE = 600


def warm() -> bool:
    """Run a probed and a plain fast hash of a synthetic picture; True when both worked."""
    try:
        from PIL import Image

        y, x = np.mgrid[0:SIDE, 0:SIDE]
        plane = (128 + 60 * np.sin(x / 23.0) * np.cos(y / 17.0)).astype(np.uint8)
        plane[: SIDE // 10] = 0  # a black band, so the trim finds a border and hashes inside it
        buffer = io.BytesIO()
        Image.fromarray(plane).convert("RGB").save(buffer, "JPEG", quality=90)
        data = buffer.getvalue()
        probes.hash_probed(data)
        pdq.hash_media(data)
    except Exception:  # noqa: BLE001 - see the module docstring
        return False
    return True


warm()

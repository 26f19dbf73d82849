"""What the decoders' fork server loads before it forks any decoder: the hashing code, run once.

``openmnr.core.decoders`` starts each decoder from a fork server that has imported the hashing
modules, so a decoder does not import numpy, Pillow and pdqhash again. Importing is not all a first
call does, though. Measured in a fresh decoder on a 712x627 JPEG (2026-12-03, load about 9): the
first probed hash took 83-89 ms against 12-14 ms for the second, and a plain hash 42-46 against
6-11 ms, because the first call still loads, in that decoder, what the libraries load lazily on
first use: Pillow's format plugins (``Image.preinit``, about 65 ms), ``numpy.ma`` behind
``np.median`` (which the border trim calls; about 70 ms), and the probes module itself (about
20 ms). A decoder that is replaced often (a burst of uploads starts more) paid that every time.

Importing this module (it is in the fork server's preload list) hashes one small synthetic JPEG
with the default query probes, in the server process, so that every decoder forked from it starts
with those already loaded and shared through copy-on-write. The picture is made here, nothing is
read from outside, and a failure is swallowed: warming is an optimisation, and the fork server
must start even if it fails (the first call then pays, as before).

Local features (``OPENMNR_MATCH_FEATURES``) need OpenCV. Imported inside a decoder, it grew the
decoder's address space by more than ``decoders.RETIRE_GROWTH`` (its libraries, and the malloc
arena and stack of the worker thread OpenCV starts for its parallel loops: 73 MiB measured), so
every decoder that computed keypoints exited after that one call and the next upload forked a
fresh one and imported OpenCV again (docs/decisions/0033). So the server also imports OpenCV,
sets it to ``OPENCV_THREADS`` thread, and finds the keypoints of the same picture once, so that
a decoder starts with OpenCV loaded and starts no thread of its own. One thread: OpenCV's
default (one per core) starts a worker thread whose arena alone is 64 MiB of address space,
which retires the decoder again; and on the two-core servers the platform runs on the other
core serves the web workers. ORB's parallel parts then run on one core; measured in one process
(a query's 500 + 250 keypoints of corpus pictures, median; 2026-12-03): CPU time 11-13 ms either
way, wall time 70-74 ms with one thread and 77-89 with two at a load of 13, while at a load of
4-6 two threads were faster (29 against 38 ms for 500 keypoints). Without OpenCV (it is
optional) this part is skipped and the rest still warms.
"""

import io

import numpy as np

from openmnr.core.robust import probes
from openmnr.core.signals import pdq

#: Side of the synthetic picture: large enough to be reduced by the JPEG decoder, like uploads.
SIDE = 600
#: Threads OpenCV may use in a decoder (its own default is one per core).
OPENCV_THREADS = 1


def warm() -> bool:
    """Run a probed and a plain fast hash of a synthetic picture, and, when OpenCV is installed,
    the probed hash with a query's keypoints; True when all that could run worked."""
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
    return warm_features(data)


def warm_features(data: bytes) -> bool:
    """Import OpenCV with ``OPENCV_THREADS`` and find a query's keypoints of ``data``; True when
    done, False without OpenCV or on any failure (swallowed, see the module docstring)."""
    try:
        import cv2
    except ImportError:
        return False
    try:
        from openmnr.core.robust import features

        cv2.setNumThreads(OPENCV_THREADS)
        probes.hash_probed(data, keypoints=features.QUERY_POINTS)
    except Exception:  # noqa: BLE001 - see the module docstring
        return False
    return True


warm()

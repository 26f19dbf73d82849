"""Which decoded frames of a live stream get hashed, and their PDQ hashes.

Decoding is the cost of a stream that cannot be avoided (every frame of an H.264 stream depends on
the ones before); hashing every decoded frame would triple it for no gain, since a picture replayed
into a stream stays on screen for many frames. So ``Sampler`` picks:

- one frame every ``1 / rate`` seconds of stream time (default 2 a second), and
- a frame at each scene change: when a 16x16 grid of luma points differs from the last frame looked
  at by more than ``scene_threshold`` grey levels on average. A known picture cut into a stream is
  then hashed on its first frame, not up to half a second later; the check reads 256 pixels, so it
  costs nothing beside decoding.

``hash_frame`` hashes the luma plane straight from the decoder (the Y plane of YUV, no conversion
to RGB) with PDQ's fast mode and its dihedral variants (``pdq.dihedral_from_luma``: one sampling
pass, the variants by the reference's sign changes), so a mirrored or turned replay of a listed
picture is found too. Video luma is usually limited range (16-235):
PDQ's bits do not change under a gain and an offset (the DC term is not used and the threshold is
the median), but its quality, a sum of gradients, reads 219/255 of the picture's; it is scaled
back, so that a picture's quality in a stream is what the banks computed for it.
"""

from dataclasses import dataclass

import numpy as np

from openmnr.core.signals import pdq

DEFAULT_RATE = 2.0
#: Mean absolute difference (grey levels, 0-255) of the 16x16 grid that counts as a scene change.
DEFAULT_SCENE_THRESHOLD = 24.0
#: Frames whose PDQ quality is below this are not matched: flat or black frames match anything.
QUALITY_THRESHOLD = pdq.QUALITY_THRESHOLD


@dataclass(frozen=True)
class FrameHashes:
    """The hashes of one sampled frame: the upright hash first, then the distinct variants."""

    hashes: tuple[str, ...]
    quality: int

    @property
    def low_quality(self) -> bool:
        return self.quality < QUALITY_THRESHOLD


class Sampler:
    """Decides, frame by frame, which frames are hashed (see the module docstring)."""

    def __init__(self, rate: float = DEFAULT_RATE, scene_threshold: float = DEFAULT_SCENE_THRESHOLD):
        if rate <= 0:
            raise ValueError("the sampling rate is a positive number of frames a second")
        self.interval = 1.0 / rate
        self.scene_threshold = scene_threshold
        self._last_sampled: float | None = None
        self._last_grid: np.ndarray | None = None
        self._last_shape: tuple[int, ...] | None = None

    def reset(self) -> None:
        """Forget the previous frames (a new connection: stream times start again)."""
        self._last_sampled = None
        self._last_grid = None
        self._last_shape = None

    def want(self, seconds: float, luma: np.ndarray) -> bool:
        """Whether the frame at ``seconds`` (stream time) with this luma plane is to be hashed."""
        grid = _grid(luma)
        previous, self._last_grid = self._last_grid, grid
        resized = self._last_shape is not None and self._last_shape != luma.shape
        self._last_shape = luma.shape
        due = (
            self._last_sampled is None
            or seconds - self._last_sampled >= self.interval
            or seconds < self._last_sampled  # the clock went back: a new stream on the connection
        )
        changed = resized or (
            previous is not None and float(np.abs(previous - grid).mean()) > self.scene_threshold
        )
        if due or changed:
            self._last_sampled = seconds
            return True
        return False


def _grid(luma: np.ndarray) -> np.ndarray:
    height, width = luma.shape
    rows = np.linspace(0, height - 1, 16).astype(np.intp)
    cols = np.linspace(0, width - 1, 16).astype(np.intp)
    return luma[np.ix_(rows, cols)].astype(np.float32)


def hash_frame(luma: np.ndarray, *, dihedral: bool = True, limited_range: bool = False) -> FrameHashes:
    """PDQ (fast mode) of a full-resolution luma plane, with its dihedral variants.
    ``limited_range``: the plane is video luma, 16-235 (see the module docstring)."""
    if not dihedral:
        plain = pdq.hash_luma(luma, quality_threshold=0)
        return FrameHashes((plain.value,), _full_range(plain.quality, limited_range))
    variants = pdq.dihedral_from_luma(luma)
    hashes = tuple(dict.fromkeys(variants[:8]))
    return FrameHashes(hashes, _full_range(variants.quality, limited_range))


def _full_range(quality: int, limited_range: bool) -> int:
    return min(100, round(quality * 255 / 219)) if limited_range else quality


def limited_range(frame) -> bool:
    """Whether a decoded frame's luma is video range (16-235): all but JPEG-range formats."""
    return not frame.format.name.startswith("yuvj") and getattr(frame, "color_range", 1) != 2


def luma_of(frame) -> np.ndarray:
    """The Y plane of a decoded PyAV video frame as a (height, width) uint8 array, without copying
    when the decoder gives planar YUV; other pixel formats are converted to grey."""
    if frame.format.name in _PLANAR_YUV:
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        return rows[: frame.height, : frame.width]
    return frame.to_ndarray(format="gray")


_PLANAR_YUV = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21"}

"""The protective thumbnail of a reported picture (its hashes come from openmnr.core.signals).

It is made from untrusted bytes, so triage runs `blurred_thumbnail` in a memory- and time-limited
child process (openmnr.core.media.run_isolated). That child imports this module and nothing of
Django, which is why it lives apart from triage.py.

The thumbnail is small, greyscale and heavily blurred, and the blur is baked into its pixels rather
than applied by CSS: what reaches an analyst's browser cannot be un-blurred by a stylesheet that
failed to load, a zoom, or a "view image" click. Enough survives (layout, rough shapes) to tell a
page's logo from a photograph before choosing to reveal.
"""

import io

from PIL import ImageFilter

from openmnr.core import media

THUMBNAIL_SIDE = 192
# A tenth of the side: shapes survive, detail does not.
BLUR_RADIUS = THUMBNAIL_SIDE / 10


def blurred_thumbnail(data: bytes) -> bytes:
    """A JPEG at most THUMBNAIL_SIDE pixels on its longer side, greyscale and blurred."""
    image = media.decode_rgb(data).convert("L")
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    image = image.filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=60)
    return out.getvalue()

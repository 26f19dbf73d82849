"""The address the local demo is served on, for the links the demo prints.

`make run` serves on ``PORT`` (``openmnr serve`` reads the same variable), so the printed links
follow it; ``OPENMNR_HOST`` likewise. Read at print time, not from settings: the demo prints links
to a server that another command starts.
"""

import os


def base_url() -> str:
    """``http://HOST:PORT`` of the demo server, without a trailing slash."""
    host = os.environ.get("OPENMNR_HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{os.environ.get('PORT', '8000')}"

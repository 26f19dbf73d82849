"""``openmnr local-settings``: write the local demo's settings file, var/local.env.

`make run` calls it first. The file holds a generated SECRET_KEY, OPENMNR_DEBUG=1,
OPENMNR_HTTPS=0 and a generated evidence key with OPENMNR_KEEP_EVIDENCE=1 (so the demo keeps
fetched media, encrypted, and the protective viewer has something to show), is readable by its
owner only, and is kept as it is once written (so the keys, and with them every session and every
kept picture, survive a restart); a file written before the evidence store was on gains its two
lines once. openmnr.web.settings reads it when it is present, with
the environment taking precedence, so that every `openmnr` command in this checkout works without
setting a variable. A production installation has no such file and sets its variables itself.
"""

import os
from pathlib import Path

HELP = "write var/local.env for the local demo (a generated key, debug on, plain HTTP)"
FILE_NAME = "local.env"


def add_arguments(parser) -> None:
    pass


def var_dir() -> Path:
    """Where settings look for the file: OPENMNR_VAR_DIR, else var/ in the current folder."""
    return Path(os.environ.get("OPENMNR_VAR_DIR") or Path.cwd() / "var").resolve()


def run(args) -> int:
    import secrets

    path = var_dir() / FILE_NAME
    if path.exists():
        text = path.read_text()
        if "OPENMNR_EVIDENCE_KEY=" not in text:
            with path.open("a") as out:
                out.write(("" if text.endswith("\n") else "\n") + _evidence_lines())
            print(f"{path}: evidence store turned on with a new key")
        else:
            print(f"{path} is kept as it is")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "# The local demo's settings, written by `make run` (openmnr local-settings). Never for\n"
        "# production: there, set the variables in the environment and have no such file.\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        "OPENMNR_DEBUG=1\n"
        "OPENMNR_HTTPS=0\n" + _evidence_lines()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
    print(f"wrote {path} (a new SECRET_KEY and evidence key, debug on, plain HTTP)")
    return 0


def _evidence_lines() -> str:
    """The demo's evidence store: on, with a key of its own (32 random bytes, base64)."""
    from openmnr.core.evidence import generate_key

    key = generate_key()
    return f"OPENMNR_KEEP_EVIDENCE=1\nOPENMNR_EVIDENCE_KEY={key}\n"

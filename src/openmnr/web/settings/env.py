"""Reading the environment: typed values, and the local demo's settings file."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def read_local_settings(path: Path) -> dict[str, str]:
    """The KEY=value lines of the local demo's settings file (openmnr.commands.local_settings),
    or {} when there is none. It may hold only SECRET_KEY, DATABASE_URL and OPENMNR_* variables,
    and must be readable by its owner only, since it holds the secret key."""
    if not path.is_file():
        return {}
    if path.stat().st_mode & 0o077:
        raise ImproperlyConfigured(
            f"{path} holds the secret key: make it readable by its owner only (chmod 600)"
        )
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not (name in ("SECRET_KEY", "DATABASE_URL") or name.startswith("OPENMNR_")):
            raise ImproperlyConfigured(
                f"{path}, line {number}: expected SECRET_KEY, DATABASE_URL or OPENMNR_*=value"
            )
        found[name] = value.strip()
    return found

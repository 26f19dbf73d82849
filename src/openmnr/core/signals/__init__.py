"""The signal types OpenMNR knows, by name.

Each signal type lives in its own module next to this one and implements
``openmnr.core.signals.base.SignalType``. To add one, write the module and add one line
"module.ClassName" to ``_REGISTERED``.
"""

from importlib import import_module

from openmnr.core.signals.base import ContentType, SignalType

_REGISTERED = (
    "pdq.PdqSignal",
    "md5.Md5Signal",
    "sha256.Sha256Signal",
    "vpdq.VpdqSignal",
    "url.UrlSignal",
)


class UnknownSignalType(KeyError):
    """No signal type is registered under that name."""


def _load(entry: str) -> type[SignalType]:
    module, class_name = entry.rsplit(".", 1)
    return getattr(import_module(f"{__name__}.{module}"), class_name)


SIGNAL_TYPES: dict[str, type[SignalType]] = {cls.name: cls for cls in map(_load, _REGISTERED)}


def get(name: str) -> type[SignalType]:
    """The signal type called ``name``."""
    try:
        return SIGNAL_TYPES[name]
    except KeyError:
        raise UnknownSignalType(f"unknown signal type {name!r}; known: {', '.join(SIGNAL_TYPES)}") from None


def for_content(content_type: ContentType) -> list[type[SignalType]]:
    """The signal types that apply to a content type, in registration order."""
    return [cls for cls in SIGNAL_TYPES.values() if content_type in cls.content_types]

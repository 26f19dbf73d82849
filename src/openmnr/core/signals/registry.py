"""The registry of signal types: every module of this package that defines a ``SignalType``.

A signal type is found, not listed: at import, each module of ``openmnr.core.signals`` (other than
the machinery in ``_MACHINERY``) is imported and every concrete ``SignalType`` subclass defined in
it is registered under its ``name``. So a new signal type is one new module (and its tests), and
nothing else changes: hashing, hash lists, the banks and their API read ``SIGNAL_TYPES``.

``register`` adds a type defined elsewhere (a test's own, an installation's plug-in) and
``unregister`` removes it again. ``SIGNAL_TYPES`` stays one dict, kept in the types' ``order``, so
a module that imported it sees later registrations.
"""

import inspect
import pkgutil
import re
from importlib import import_module
from pathlib import Path

from openmnr.core.signals.base import ContentType, SignalType, UnknownSignalType

#: Modules of this package that hold the machinery, not signal types.
_MACHINERY = frozenset({"base", "registry", "content"})
_PACKAGE = __name__.rpartition(".")[0]
_NAME = re.compile(r"[a-z][a-z0-9_]{0,15}")

#: Every registered signal type by name, in order (see ``SignalType.order``).
SIGNAL_TYPES: dict[str, type[SignalType]] = {}


def register(cls: type[SignalType]) -> type[SignalType]:
    """Add a signal type (usable as a class decorator). Refuses a second type of the same name."""
    if not (inspect.isclass(cls) and issubclass(cls, SignalType)) or inspect.isabstract(cls):
        raise TypeError(f"{cls!r} is not a concrete SignalType")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"{cls.__qualname__}.name must be lower_snake_case, at most 16 characters")
    if not cls.content_types or not all(isinstance(c, ContentType) for c in cls.content_types):
        raise ValueError(f"{cls.__qualname__}.content_types must name at least one ContentType")
    if SIGNAL_TYPES.get(name, cls) is not cls:
        raise ValueError(f"a signal type named {name!r} is already registered")
    entries = {**SIGNAL_TYPES, name: cls}
    SIGNAL_TYPES.clear()
    SIGNAL_TYPES.update(sorted(entries.items(), key=lambda item: (item[1].order, item[0])))
    return cls


def unregister(name: str) -> None:
    """Remove the signal type called ``name`` (a test's own, when the test ends)."""
    SIGNAL_TYPES.pop(name, None)


def get(name: str) -> type[SignalType]:
    """The signal type called ``name``; ``UnknownSignalType`` if there is none (the message lists
    the known names, not the one given, which may come from a file)."""
    cls = SIGNAL_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise UnknownSignalType(f"unknown signal type (known: {', '.join(SIGNAL_TYPES)})")
    return cls


def for_content(*content_types: ContentType) -> list[type[SignalType]]:
    """The signal types that apply to any of ``content_types``, in order."""
    return [cls for cls in SIGNAL_TYPES.values() if set(cls.content_types) & set(content_types)]


def _discover() -> None:
    for module_info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module_info.name in _MACHINERY or module_info.name.startswith("_"):
            continue
        module = import_module(f"{_PACKAGE}.{module_info.name}")
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, SignalType)
                and value.__module__ == module.__name__
                and not inspect.isabstract(value)
            ):
                register(value)


_discover()

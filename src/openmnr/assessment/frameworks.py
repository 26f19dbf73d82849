"""The framework a cycle was made against. Framework files never change once shipped (a revision is a
new version), so each version is loaded once per process."""

from functools import lru_cache

from openmnr.core.mnr import Framework, load_framework


@lru_cache(maxsize=8)
def framework(version: str) -> Framework:
    return load_framework(version)


def framework_of(cycle) -> Framework:
    return framework(cycle.framework_version)

"""OpenMNR: the technical side of a national response to online child sexual exploitation and abuse."""

__version__ = "0.1.0"

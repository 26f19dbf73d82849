"""Hotline-to-hotline exchange that needs no database: the INHOPE ICCAM API 3 client, the mapping
between ICCAM's records and ours, and the signed message format of OpenMNR federation.

Modules:
    iccam        the ICCAM API 3 client: mutual TLS, bearer tokens, typed errors per kind of failure
    iccam_data   ICCAM's JSON read into checked records, and the bodies we send, through the vocabulary
    federation   signed, idempotent messages between OpenMNR instances (Ed25519): keys and envelope
    federation_body  what those messages carry: a forwarded case, a partner's action

Every error these modules raise on purpose is a subclass of ExchangeError. The Django app
``openmnr.exchange`` stores what was exchanged and decides when; these modules only speak.
"""


class ExchangeError(Exception):
    """Base of every error raised on purpose by openmnr.core.exchange."""

"""Hotline networks (INHOPE's ICCAM, OpenMNR federation) take part in takedown by registration, so
that takedown does not depend on the app that speaks them.

A network registers, in its AppConfig.ready():

    forward(case_id, hosting) -> str | None   take a case that routing forwards to a partner hotline
                                              (hosting: {"country", "ip", "isp"}); the channel's
                                              name, or None to leave it to e-mail
    removals() -> {case_id: datetime}         when a partner reported each case removed

A forward taken by a network goes on the case's timeline as "forwarded through <channel>" and the
e-mail to the directory's partner is not sent. The removal statistics show those cases in their own
row, measured with the partner's removal time ("removed through the network").
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Network:
    forward: Callable[[int, dict], str | None]
    removals: Callable[[], dict[int, datetime]]


_NETWORKS: list[Network] = []


def register(network: Network) -> None:
    if network not in _NETWORKS:
        _NETWORKS.append(network)


def forward(case_id: int, hosting: dict) -> str | None:
    for network in _NETWORKS:
        channel = network.forward(case_id, hosting)
        if channel:
            return channel
    return None


def removals() -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for network in _NETWORKS:
        for case_id, at in network.removals().items():
            found[case_id] = min(at, found.get(case_id, at))
    return found

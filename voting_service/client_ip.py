"""The client's address: the peer, or X-Forwarded-For only when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ClientIPResolver:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted = tuple(ipaddress.ip_network(c, strict=False) for c in trusted_proxies)

    def _is_trusted(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self._trusted)

    def resolve(self, peer: str | None, forwarded_for: str | None) -> IPAddress:
        try:
            ip: IPAddress = ipaddress.ip_address(peer or "0.0.0.0")
        except ValueError:
            ip = ipaddress.ip_address("0.0.0.0")
        if not forwarded_for or not self._is_trusted(ip):
            return ip
        # Walk from the right: each trusted hop vouches for the address before it; the first
        # untrusted address is the client. Anything a client wrote further left is ignored.
        for part in reversed([p.strip() for p in forwarded_for.split(",")]):
            try:
                hop = ipaddress.ip_address(part)
            except ValueError:
                return ip
            if not self._is_trusted(hop):
                return hop
            ip = hop
        return ip


def network_of(ip: IPAddress) -> str:
    """The /24 (IPv4) or /64 (IPv6) a client sits in: the unit bot farms rotate inside."""
    if ip.version == 4:
        p = ip.packed
        return f"{p[0]}.{p[1]}.{p[2]}.0/24"
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))

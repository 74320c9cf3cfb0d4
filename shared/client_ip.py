"""The client's address, for both services: the TCP peer, or ``X-Forwarded-For`` only when the peer is a
trusted proxy; and the keyed hash under which limits, fraud signals and logs see it.

One resolver on purpose: a per-IP limit is only as good as the address it counts, and the admin service's
sign-in throttle and audit log must see the same address as the public service's vote limits.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.crypto import b64u

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_UNKNOWN = ipaddress.ip_address("0.0.0.0")


def unmapped(ip: IPAddress) -> IPAddress:
    """``::ffff:203.0.113.5`` is 203.0.113.5: a dual-stack socket reports IPv4 clients that way, and one
    client must not count as two (nor land in an IPv6 /64 with every other IPv4 client)."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def parse_ip(text: str | None) -> IPAddress | None:
    try:
        return unmapped(ipaddress.ip_address((text or "").strip()))
    except ValueError:
        return None


class ClientIPResolver:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted = tuple(ipaddress.ip_network(c, strict=False) for c in trusted_proxies)

    def _is_trusted(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self._trusted)

    def resolve(self, peer: str | None, forwarded_for: str | Sequence[str] | None) -> IPAddress:
        """``forwarded_for`` is the header's value, or all its lines in order: several ``X-Forwarded-For``
        lines are legal HTTP and mean the same as one line joined with commas. A client that sends a line of
        its own ahead of the proxy's is therefore still read from the right, past the proxies."""
        ip = parse_ip(peer) or _UNKNOWN
        if not forwarded_for or not self._is_trusted(ip):
            return ip
        joined = forwarded_for if isinstance(forwarded_for, str) else ",".join(forwarded_for)
        # Walk from the right: each trusted hop vouches for the address before it; the first untrusted
        # address is the client. Anything a client wrote further left is ignored.
        for part in reversed(joined.split(",")):
            hop = parse_ip(part)
            if hop is None:  # a broken chain: stop at the last address a trusted hop vouched for
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


def ip_hash(key: bytes, ip: IPAddress) -> str:
    """A keyed, non-reversible name for an address (72 bits): limits and logs without the address in clear."""
    return b64u(hmac.new(key, b"ip:" + ip.packed, hashlib.sha256).digest()[:9])


@dataclass(frozen=True, slots=True)
class Client:
    ip_hash: str     # keyed hash: rate limits and fraud signals without the address in clear
    net: str         # /24 or /64, kept in clear for fraud review


@functools.lru_cache(maxsize=4096)
def client_for(resolver: ClientIPResolver, key: bytes, peer: str | None,
               forwarded_for: str | tuple[str, ...] | None) -> Client:
    """The client behind (peer, X-Forwarded-For); cached: a worker sees the same few peers (proxies, NATs)
    again and again, and resolving, hashing and the /24 cost more than the lookup."""
    ip = resolver.resolve(peer, forwarded_for)
    return Client(ip_hash=ip_hash(key, ip), net=network_of(ip))


def forwarded_for_lines(headers: object) -> tuple[str, ...] | None:
    """Every ``X-Forwarded-For`` line of a Litestar request's headers, in order (None when there is none)."""
    lines = tuple(headers.getall("x-forwarded-for", []))  # type: ignore[attr-defined]
    return lines or None

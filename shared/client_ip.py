"""The client's address, for both services: the TCP peer, or ``X-Forwarded-For`` only when the peer is a
trusted proxy; and the keyed hash under which limits, fraud signals and logs see it.

One resolver on purpose: a per-IP limit is only as good as the address it counts, and the admin service's
sign-in throttle and audit log must see the same address as the public service's vote limits.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.crypto import b64u

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_UNKNOWN = b"\x00\x00\x00\x00"  # 0.0.0.0: a peer the server could not name
_V4_MAPPED = b"\x00" * 10 + b"\xff\xff"


def unmapped(ip: IPAddress) -> IPAddress:
    """``::ffff:203.0.113.5`` is 203.0.113.5: a dual-stack socket reports IPv4 clients that way, and one
    client must not count as two (nor land in an IPv6 /64 with every other IPv4 client)."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def packed_ip(text: str | None) -> bytes | None:
    """An address as its 4 (IPv4, IPv4-mapped unwrapped) or 16 bytes, None when ``text`` is not one.

    The C parser (``inet_pton``, as strict as ``ipaddress``: no leading zeros, no short forms) rather than
    ``ipaddress``: every vote resolves its client, and a cache miss parsed two addresses in ~8 µs of Python."""
    text = (text or "").strip()
    try:
        return socket.inet_pton(socket.AF_INET, text)
    except (OSError, ValueError, UnicodeError):
        pass
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except (OSError, ValueError, UnicodeError):
        return None
    return packed[12:] if packed[:12] == _V4_MAPPED else packed


def parse_ip(text: str | None) -> IPAddress | None:
    packed = packed_ip(text)
    return None if packed is None else ipaddress.ip_address(packed)


class ClientIPResolver:
    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        nets = [ipaddress.ip_network(c, strict=False) for c in trusted_proxies]
        # (address length, network as an int, mask as an int): membership is one AND on the packed address.
        self._trusted = tuple((n.max_prefixlen // 8, int(n.network_address), int(n.netmask))
                              for n in (unmapped_network(n) for n in nets))

    def _is_trusted(self, packed: bytes) -> bool:
        if not self._trusted:
            return False
        size, value = len(packed), int.from_bytes(packed, "big")
        return any(size == n and value & mask == net for n, net, mask in self._trusted)

    def resolve_packed(self, peer: str | None, forwarded_for: str | Sequence[str] | None) -> bytes:
        """``resolve`` as packed bytes (4 or 16), what the hash and the network are computed from."""
        ip = packed_ip(peer) or _UNKNOWN
        if not forwarded_for or not self._is_trusted(ip):
            return ip
        joined = forwarded_for if isinstance(forwarded_for, str) else ",".join(forwarded_for)
        # Walk from the right: each trusted hop vouches for the address before it; the first untrusted
        # address is the client. Anything a client wrote further left is ignored.
        for part in reversed(joined.split(",")):
            hop = packed_ip(part)
            if hop is None:  # a broken chain: stop at the last address a trusted hop vouched for
                return ip
            if not self._is_trusted(hop):
                return hop
            ip = hop
        return ip

    def resolve(self, peer: str | None, forwarded_for: str | Sequence[str] | None) -> IPAddress:
        """``forwarded_for`` is the header's value, or all its lines in order: several ``X-Forwarded-For``
        lines are legal HTTP and mean the same as one line joined with commas. A client that sends a line of
        its own ahead of the proxy's is therefore still read from the right, past the proxies."""
        return ipaddress.ip_address(self.resolve_packed(peer, forwarded_for))


def unmapped_network(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A trusted ``::ffff:10.0.0.0/104`` is the IPv4 10.0.0.0/8: addresses are compared unwrapped."""
    if net.version == 6 and net.prefixlen >= 96 and net.network_address.ipv4_mapped is not None:
        return ipaddress.ip_network((net.network_address.ipv4_mapped, net.prefixlen - 96))
    return net


def _network_of_packed(p: bytes) -> str:
    if len(p) == 4:
        return f"{p[0]}.{p[1]}.{p[2]}.0/24"
    return str(ipaddress.IPv6Network((int.from_bytes(p[:8], "big") << 64, 64)))


def _scope_of_packed(p: bytes) -> str:
    """The widest network a client's limits are counted in: its /24 (IPv4) or its /48 (IPv6, a site: one
    host or customer often holds a whole /48, and a /64 alone would hand it 65 536 fresh allowances)."""
    if len(p) == 4:
        return f"{p[0]}.{p[1]}.{p[2]}.0/24"
    return str(ipaddress.IPv6Network((int.from_bytes(p[:6], "big") << 80, 48)))


def network_of(ip: IPAddress) -> str:
    """The /24 (IPv4) or /64 (IPv6) a client sits in: the unit bot farms rotate inside."""
    return _network_of_packed(ip.packed)


def _hash_packed(key: bytes, packed: bytes) -> str:
    return b64u(hmac.digest(key, b"ip:" + packed, "sha256")[:9])


def ip_hash(key: bytes, ip: IPAddress) -> str:
    """A keyed, non-reversible name for an address (72 bits): limits and logs without the address in clear."""
    return _hash_packed(key, ip.packed)


@dataclass(frozen=True, slots=True)
class Client:
    ip_hash: str     # keyed hash: rate limits and fraud signals without the address in clear
    net: str         # /24 or /64, kept in clear for fraud review
    scope: str = ""  # /24 or /48: the hash tag of the client's layered limits (shared/votestore/keys.py)


@functools.lru_cache(maxsize=4096)
def client_for(resolver: ClientIPResolver, key: bytes, peer: str | None,
               forwarded_for: str | tuple[str, ...] | None) -> Client:
    """The client behind (peer, X-Forwarded-For); cached: a worker sees the same few peers (proxies, NATs)
    again and again, and resolving, hashing and the /24 cost more than the lookup."""
    packed = resolver.resolve_packed(peer, forwarded_for)
    return Client(ip_hash=_hash_packed(key, packed), net=_network_of_packed(packed), scope=_scope_of_packed(packed))


def forwarded_for_lines(headers: object) -> tuple[str, ...] | None:
    """Every ``X-Forwarded-For`` line of a Litestar request's headers, in order (None when there is none)."""
    lines = tuple(headers.getall("x-forwarded-for", []))  # type: ignore[attr-defined]
    return lines or None

from ipaddress import ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.client_ip import ClientIPResolver, client_for, ip_hash, network_of, packed_ip, unmapped


def test_forwarded_for_is_ignored_from_an_untrusted_peer():
    r = ClientIPResolver([])
    assert r.resolve("198.51.100.9", "1.2.3.4") == ip_address("198.51.100.9")


def test_trusted_proxy_yields_the_rightmost_untrusted_address():
    r = ClientIPResolver(["10.0.0.0/8"])
    # a client forged "6.6.6.6" in front; the proxy chain appended the real address
    assert r.resolve("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.1") == ip_address("203.0.113.5")


def test_garbage_forwarded_for_falls_back_to_the_peer():
    r = ClientIPResolver(["10.0.0.0/8"])
    assert r.resolve("10.0.0.2", "not-an-ip") == ip_address("10.0.0.2")


def test_networks_are_24_and_64():
    assert network_of(ip_address("203.0.113.77")) == "203.0.113.0/24"
    assert network_of(ip_address("2001:db8:1:2:3:4:5:6")) == "2001:db8:1:2::/64"


def test_every_forwarded_for_line_counts_so_a_client_line_in_front_picks_nothing():
    """Several header lines are one list joined with commas (RFC 9110 5.3). A client that sends its own line
    ahead of the proxy's must still be read from the right, past the trusted proxy."""
    r = ClientIPResolver(["10.0.0.0/8"])
    lines = ("6.6.6.6", "203.0.113.5")  # the client's forged line, then the one the proxy appended
    assert r.resolve("10.0.0.2", lines) == ip_address("203.0.113.5")
    assert r.resolve("10.0.0.2", ("6.6.6.6, 7.7.7.7", "203.0.113.5, 10.0.0.1")) == ip_address("203.0.113.5")
    assert r.resolve("10.0.0.2", ", ".join(lines)) == r.resolve("10.0.0.2", lines)


def test_ipv4_mapped_addresses_are_unwrapped_everywhere():
    r = ClientIPResolver(["10.0.0.0/8"])
    assert r.resolve("::ffff:198.51.100.9", None) == ip_address("198.51.100.9")               # the peer
    assert r.resolve("::ffff:10.0.0.2", "::ffff:203.0.113.5") == ip_address("203.0.113.5")  # a trusted peer, a hop
    assert r.resolve("10.0.0.2", "203.0.113.5, ::ffff:10.0.0.1") == ip_address("203.0.113.5")  # a trusted hop
    assert network_of(r.resolve("::ffff:203.0.113.77", None)) == "203.0.113.0/24"


def test_one_hash_per_address_whatever_its_spelling():
    key = b"k" * 32
    r = ClientIPResolver([])
    a = client_for(r, key, "::ffff:203.0.113.5", None)
    b = client_for(r, key, "203.0.113.5", None)
    assert a == b and a.ip_hash == ip_hash(key, ip_address("203.0.113.5")) and "203" not in a.ip_hash
    assert client_for(r, b"x" * 32, "203.0.113.5", None).ip_hash != a.ip_hash


# The resolver parses with the C parser (inet_pton) for speed; it must accept and refuse exactly what the
# standard library's ``ipaddress`` does, or a spelling could slip past a limit or a trusted-proxy check.

def _reference(text: str):
    import ipaddress
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if ip.version == 6 and ip.scope_id is not None:
        return None  # fe80::1%eth0: a zone means nothing off the host; refused (a proxy never sends one)
    return unmapped(ip).packed


@given(st.ip_addresses())
def test_packed_ip_matches_ipaddress_on_every_address(ip):
    for text in (str(ip), f" {ip} ", ip.exploded):
        assert packed_ip(text) == _reference(text)


@pytest.mark.parametrize("text", [
    "", " ", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3.4/24", "0x1.2.3.4", "1.2.3.-4",
    "::ffff:1.2.3.4", "::1.2.3.4", "2001:db8::1", "2001:db8:::1", "2001:db8::g", "1.2.3.4\x00", "١.٢.٣.٤",
    "+1.2.3.4", "1.2.3.4 5", "[::1]", "::ffff:01.2.3.4",
])
def test_packed_ip_refuses_and_accepts_like_ipaddress(text):
    assert packed_ip(text) == _reference(text)


@given(st.lists(st.ip_addresses(), min_size=1, max_size=4), st.ip_addresses(v=4))
def test_resolve_walks_the_chain_like_the_reference(hops, peer):
    import ipaddress
    r = ClientIPResolver(["10.0.0.0/8", "fd00::/8"])
    header = ", ".join(str(h) for h in hops)
    trusted = lambda ip: any(ip in n for n in (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")))
    for p in (peer, ipaddress.ip_address("10.1.2.3")):
        expect = p
        if trusted(p):
            for h in reversed(hops):
                h = unmapped(h)
                if not trusted(h):
                    expect = h
                    break
                expect = h
        assert r.resolve(str(p), header) == expect

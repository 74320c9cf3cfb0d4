from ipaddress import ip_address

from shared.client_ip import ClientIPResolver, client_for, ip_hash, network_of


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

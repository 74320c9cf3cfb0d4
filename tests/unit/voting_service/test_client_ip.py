from ipaddress import ip_address

from voting_service.client_ip import ClientIPResolver, network_of


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

"""The benchmark's request plan: what the production limits would see of it must be what a crowd does."""

from __future__ import annotations

import collections
import ipaddress
import random

from loadtests.votedata import HOSTS_PER_NETWORK, client_address, plan


def test_no_voter_repeats_itself_into_the_per_voter_limit():
    """Every 10th request repeats an earlier pair; early on that once meant one voter dozens of times."""
    seq, voters, repeats = plan(20_000, candidates=list(range(200)), k=3, rng=random.Random(7))
    per_voter = collections.Counter(v for v, _ in seq)
    assert max(per_voter.values()) <= 10  # VOTE_LIMIT_VOTER's default, per 10 s
    assert repeats == 2_000 and voters > 5_000


def test_each_voter_keeps_one_address_and_the_crowd_spreads_over_the_networks():
    networks = 512
    assert client_address(12345, networks) == client_address(12345, networks)
    addresses = {client_address(v, networks) for v in range(networks * HOSTS_PER_NETWORK)}
    assert len(addresses) == networks * HOSTS_PER_NETWORK
    nets = {ipaddress.ip_network(f"{a}/24", strict=False) for a in addresses}
    assert len(nets) == networks and all(not n.is_private and not n.is_loopback for n in nets)

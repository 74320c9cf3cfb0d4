"""The benchmark's request plan: what the production limits would see of it must be what a crowd does."""

from __future__ import annotations

import collections
import ipaddress
import random

from loadtests.votedata import HOSTS_PER_NETWORK, client_address, phone_of, plan, write_vote_file
from shared.crypto import VoterTokens, pseudonym
from shared.fraud_signals import phone_block


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


def test_the_phones_are_distinct_and_spread_over_blocks_of_100_like_a_crowds():
    """A real crowd's phones rarely share a block of 100 numbers; consecutive bench voters used to fill them."""
    ranges = [range(0, 300_000), range(700_000_000, 700_050_000), range(800_000_000, 800_050_000),
              range(900_000_000, 900_050_000)]  # the bench's main, naive, warm-up and probe voters
    phones = [phone_of(v) for r in ranges for v in r]
    assert len(set(phones)) == len(phones)
    assert all(p.startswith("+77") and len(p) == 12 and p[1:].isdigit() for p in phones)
    per_block = collections.Counter(p[:-2] for p in phones)
    assert max(per_block.values()) <= 3 and len(per_block) >= 0.9 * len(phones)  # sequential phones: 0.01


def test_the_tokens_carry_the_signals_the_sign_in_puts_in_them(tmp_path):
    token_key, pseudonym_key = b"t" * 32, b"p" * 32
    vf = write_vote_file(tmp_path / "votes.txt", requests=200, candidates=list(range(1, 21)), k=3,
                         token_key=token_key, pseudonym_key=pseudonym_key, ttl_s=3600, seed=1)
    tokens = VoterTokens(token_key, 3600)
    seen = {}
    for line in (tmp_path / "votes.txt").read_text().splitlines():
        claims = tokens.claims(line.split()[0])
        seen[claims.voter] = claims
    assert len(seen) == vf.voters
    for n in range(vf.voters):
        phone = phone_of(n)
        operator, block, _ = phone_block(pseudonym_key, phone)
        claims = seen[pseudonym(pseudonym_key, "voter", phone)]
        assert (claims.op, claims.blk, claims.seq) == (operator, block, 0) and operator == phone[2:5]

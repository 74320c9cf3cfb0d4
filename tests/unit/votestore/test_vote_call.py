"""The pure builder of a vote.lua call (shared/votestore/vote.py): which keys, in which order, with which
arguments; no Redis needed. The integration tests run the same call against a real Redis."""

from __future__ import annotations

import re
from importlib import resources

from hypothesis import given
from hypothesis import strategies as st

from shared.crypto import b64u
from shared.settings import Settings
from shared.votestore import keys
from shared.votestore.vote import layer_args, limit_args, vote_call

VOTER = b64u(bytes(range(32)))  # shard 0x00010203 % n, bucket 0x04050607 % m


def _lua_header() -> str:
    return resources.files("shared.votestore.lua").joinpath("vote.lua").read_text("utf-8")


def test_the_call_names_the_voters_shard_keys_in_the_order_vote_lua_reads_them():
    shard, ks, args = vote_call(campaign_id=17, shards=16, voter_buckets=1000, voter=VOTER, candidate_id="40",
                                nonce="n0nce-123", ip_hash="iph", ip_net="10.1.2.0/24", signals="3|b|1|701|ru|blk|0")
    assert (shard, keys.voter_route(VOTER, 16, 1000)) == (0x00010203 % 16, (0x00010203 % 16, 0x04050607 % 1000))
    sk = keys.ShardKeys.of(17, shard)
    assert ks == [sk.cfg, sk.ballot, sk.voters(0x04050607 % 1000), sk.tally, sk.stream,
                  sk.rl_voter(VOTER)]
    assert ks[0] == "{c17:s3}:cfg" and ks[2] == "{c17:s3}:v:%d" % (0x04050607 % 1000)
    assert args == [VOTER, "40", "n0nce-123", "iph", "10.1.2.0/24", "3|b|1|701|ru|blk|0"]


def test_the_call_fills_every_key_and_argument_vote_lua_declares():
    lua = _lua_header()
    declared_keys = max(int(n) for n in re.findall(r"KEYS\[(\d+)\]", lua))
    declared_argv = max(int(n) for n in re.findall(r"ARGV\[(\d+)\]", lua))
    _, ks, args = vote_call(campaign_id=1, shards=1, voter_buckets=1, voter=VOTER, candidate_id="1", nonce="x" * 12,
                            ip_hash="h", ip_net="n")
    tail = limit_args(Settings.from_env({"APP_ENV": "test"}))
    assert len(ks) == declared_keys
    assert len(args) + len(tail) == declared_argv


def test_the_rate_limit_tail_comes_from_the_settings_in_vote_lua_order():
    s = Settings.from_env({"APP_ENV": "test"})
    assert limit_args(s) == (s.vote_limit_voter, s.vote_limit_voter_window_s)


def test_the_layer_tail_is_soft_hard_window_per_layer_in_layers_lua_order():
    s = Settings.from_env({"APP_ENV": "test", "LIMIT_HARD_FACTOR": "7"})
    assert layer_args(s) == (s.vote_limit_ip, 7 * s.vote_limit_ip, s.vote_limit_ip_window_s,
                             s.vote_limit_net, 7 * s.vote_limit_net, s.vote_limit_net_window_s,
                             s.vote_limit_wide, 7 * s.vote_limit_wide, s.vote_limit_net_window_s)


def test_layer_keys_share_the_client_networks_hash_tag_never_a_shards():
    v4 = keys.layer_keys("vote", "iph", "10.1.2.0/24", "10.1.2.0/24")
    assert v4 == ("rl:{n:10.1.2.0/24}:vote:a:iph", "rl:{n:10.1.2.0/24}:vote:net")
    v6 = keys.layer_keys("otp", "h6", "2001:db8:1:2::/64", "2001:db8:1::/48")
    assert v6 == ("rl:{n:2001:db8:1::/48}:otp:a:h6", "rl:{n:2001:db8:1::/48}:otp:net:2001:db8:1:2::/64",
                  "rl:{n:2001:db8:1::/48}:otp:wide")
    # layers.lua reads three (soft, hard, window) triples: one per key, at most three keys.
    lua = resources.files("shared.votestore.lua").joinpath("layers.lua").read_text("utf-8")
    assert "ARGV[3 * i - 2]" in lua and len(v6) == 3


@given(campaign=st.integers(1, 2**53), shards=st.integers(1, 64), buckets=st.integers(1, 70_000),
       raw=st.binary(min_size=32, max_size=32))
def test_every_key_of_a_call_shares_one_hash_tag_and_the_call_is_deterministic(campaign, shards, buckets, raw):
    voter = b64u(raw)
    call = vote_call(campaign_id=campaign, shards=shards, voter_buckets=buckets, voter=voter, candidate_id="7",
                     nonce="abcdefgh", ip_hash="ih", ip_net="::/64")
    shard, ks, _ = call
    assert 0 <= shard < shards
    tag = keys.shard_tag(campaign, shard)
    assert all(k.startswith(tag + ":") for k in ks)  # one slot: valid on Redis Cluster
    assert len(set(ks)) == len(ks)
    assert vote_call(campaign_id=campaign, shards=shards, voter_buckets=buckets, voter=voter, candidate_id="7",
                     nonce="abcdefgh", ip_hash="ih", ip_net="::/64") == call

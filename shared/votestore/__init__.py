"""The vote store: everything Redis holds about votes, and the only code that reads or writes it.

A change to what Redis holds for a vote touches this package and nothing else. The voting service, the
flusher, the admin service and the load tests call the modules below; none of them builds a vote-store key
itself (the load tests' memory and bench reports inspect keys, e.g. bucket sizes, by the names in ``keys``).

Key schema (``keys``; every key a script touches carries the shard's hash tag, so it runs on Redis Cluster):

    faces:campaign:<id>      hash    routing: shards, voter_buckets, k, live_results, state, opens_ms, closes_ms
    faces:streams            set     "<campaign>:<shard>" of every stream (what the flusher drains)
    {c<id>:s<n>}:cfg         hash    state, opens_ms, closes_ms, k (one copy per shard)
    {c<id>:s<n>}:ballot      set     candidate ids on the ballot
    {c<id>:s<n>}:v:<bucket>  hash    voter pseudonym -> ",12,40," (the candidates they chose)
    {c<id>:s<n>}:tally       hash    candidate id -> accepted votes in the shard
    {c<id>:s<n>}:stream      stream  accepted votes (r nonce, c candidate, v voter, ih ip hash, n network);
                                     consumer group ``flusher``
    {c<id>:s<n>}:rl:{v,ip,net}:<x>   fixed-window rate-limit counters (TTL = window)

A voter's shard and bucket come from their pseudonym (``keys.voter_route``), fixed for the campaign.

Modules, what they do, who calls them:

- ``keys``        the schema above.                                    everything below
- ``projection``  ``project`` writes a campaign (routing hash, per-shard cfg and ballot, stream + group,
                  registry) idempotently; ``is_current`` checks Redis still holds it.
                                                admin service (publish, close, finalise); flusher (every 2 s)
- ``lua/vote.lua`` the acceptance decision of one vote, atomic: window, the voter's rate limit, ballot, k,
                  duplicate; on success records the choice, increments the tally and appends to the stream.
- ``lua/layers.lua`` layered per-address / per-network counters (soft: proof of work, hard: refused) in keys
                  of their own (hash tag = the client's /24 or /48); ``lua/sms_budget.lua`` the national SMS
                  budget and its breaker.                 voting service (voting_service/services/guard.py)
- ``vote``        ``vote_call`` (PURE: shard, KEYS, ARGV of one vote.lua call), ``limit_args`` (ARGV[7..8]),
                  ``layer_args`` / ``layer_batcher`` (layers.lua for votes), ``vote_batcher``,
                  ``Route``/``load_route`` (the routing hash), ``voter_choices``.
                                                voting service (ballot box, routes); loadtests/memory.py
- ``script``      ``Script``: a Lua script by SHA with EVAL fallback. Also loads the voting service's
                  sign-in scripts (voting_service/lua/, keys in voting_service/redis_keys.py: not vote store).
- ``batcher``     ``ScriptBatcher``: many concurrent calls of one script pipelined per round trip (with
                  REDIS_WAIT_REPLICAS, a ``WAIT`` after each batch); ``ClusterScriptBatcher``: one per primary
                  on Redis Cluster, each call routed by its keys' slot.
- ``wire``        the batcher's only use of redis-py internals (version bounds in pyproject.toml).
- ``receipts``    receipt format (``<campaign>.<shard>.<stream id>.<nonce>``), ``in_stream`` lookup.
                                                voting service (receipts), flusher (vote ids)
- ``tally``       ``tallies``: per-candidate sums over the shards.  voting service (live results), admin
                                                service (results page), reconcile, load tests
- ``streams``     the consumer side of the streams, several at once: ``registered``, ``read`` (one
                  XREADGROUP, group ``flusher``; on a cluster one per stream, pipelined per node), ``claim``,
                  ``ack_and_trim`` (after the COMMIT), ``backlog``. Several flushers may share the group.
                                                the flusher (voting_service/flusher.py)
- ``drain``       ``undrained``/``wait_drained``/``registered_shards``: votes not yet in Postgres.
                                                admin service (finalise), reconcile, load tests
- ``reconcile``   tallies vs Postgres counts after the drain (``repo``: the one query it needs).
                                                admin service (finalise), ``python -m voting_service reconcile``

Redis Cluster (a ``redis+cluster://`` URL, shared/infra.py): the same keys and scripts; what differs is said
in ``batcher`` and ``streams``, and MULTI goes through ``shared.infra.transaction`` (docs/running.md).

Redis ACL: each command used here is listed in shared/store_access.py REDIS_COMMANDS for the services that
run it (commands inside vote.lua included); the voting service may touch only ``{c*`` and ``faces:campaign:*``
of these keys.
"""

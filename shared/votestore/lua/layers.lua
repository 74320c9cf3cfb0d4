-- layers.lua: layered fixed-window counters of one client network, in one atomic step.
-- Limits that span shards (per address, per network) live here, in keys of their own: every key of one call
-- shares the hash tag of the client's widest network ({n:<IPv4 /24>} or {n:<IPv6 /48>}), never a vote
-- shard's, so the shard count cannot multiply a limit (and the script runs on Redis Cluster).
--
-- KEYS[1] address counter   KEYS[2] network counter (/24 or /64)   KEYS[3] IPv6 /48 counter (IPv6 only)
-- ARGV[3i-2], ARGV[3i-1], ARGV[3i]: soft limit, hard limit, window s of KEYS[i] (soft <= 0: layer off)
--
-- Every attempt counts. Returns {verdict, level_pct, retry_after_s, layer}:
--   verdict 0: under every soft limit; 1: over a soft limit (a proof of work is required); 2: over a hard
--   limit (refused, retry after retry_after_s); level_pct: the highest count / soft limit in percent (the
--   risk level that sets the difficulty); layer: 1-based index of the layer that decided (0 when none).
local verdict, level, retry, layer = 0, 0, 0, 0
for i = 1, #KEYS do
  local soft = tonumber(ARGV[3 * i - 2])
  if soft and soft > 0 then
    local hard = tonumber(ARGV[3 * i - 1])
    local n = redis.call('INCR', KEYS[i])
    if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[3 * i]) end
    local pct = math.floor(n * 100 / soft)
    if pct > level then level = pct end
    if n > hard then
      local ttl = redis.call('TTL', KEYS[i])
      if ttl < 1 then ttl = 1 end
      if verdict < 2 or ttl > retry then retry = ttl end
      if verdict < 2 then layer = i end
      verdict = 2
    elseif n > soft and verdict == 0 then
      verdict, layer = 1, i
    end
  end
end
return {verdict, level, retry, layer}

-- vote.lua: the whole acceptance decision for one vote, in one atomic step.
-- Every key shares the voter's shard hash tag {c<campaign>:s<shard>}, so this runs on Redis Cluster too.
--
-- KEYS[1] cfg      hash   state, opens_ms, closes_ms, k
-- KEYS[2] ballot   set    candidate ids on the published ballot
-- KEYS[3] voters   hash   voter -> ",12,40," (candidates this voter chose)
-- KEYS[4] tally    hash   candidate -> accepted votes
-- KEYS[5] stream   stream accepted votes for the flusher
-- KEYS[6] rl voter counter (a voter lives in one shard, so this limit is never multiplied by the shard count;
--         the per-address and per-network limits span shards and live in keys of their own: layers.lua)
-- ARGV[1] voter pseudonym   ARGV[2] candidate id   ARGV[3] receipt nonce
-- ARGV[4] ip hash   ARGV[5] ip network (/24 or /64)
-- ARGV[6] the vote's fraud signals, packed (shared/fraud_signals.py); written to the stream as is
-- ARGV[7..8] voter limit, window s (limit <= 0: off); constant per process (settings): the batcher packs
--            them once and appends them to every call
--
-- Returns {result, x}:
--   {"ok", stream_id, votes_left}   {"already_voted", votes_left}   {"vote_limit_reached", 0}
--   {"rate_limited", retry_after_s}  {"campaign_not_found"}  {"campaign_closed"}  {"candidate_not_on_ballot"}

local cfg = redis.call('HMGET', KEYS[1], 'state', 'opens_ms', 'closes_ms', 'k')
if not cfg[1] then
  return {'campaign_not_found'}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if cfg[1] ~= 'published' or now < tonumber(cfg[2]) or now >= tonumber(cfg[3]) then
  return {'campaign_closed'}
end

-- Fixed-window counters; every attempt counts, accepted or not, so probing is throttled too.
local function over(key, limit, window)
  limit = tonumber(limit)
  if limit <= 0 then return 0 end
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, window) end
  if n > limit then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then ttl = 1 end
    return ttl
  end
  return 0
end
local wait = over(KEYS[6], ARGV[7], ARGV[8])
if wait > 0 then
  return {'rate_limited', wait}
end

local candidate = ARGV[2]
if redis.call('SISMEMBER', KEYS[2], candidate) == 0 then
  return {'candidate_not_on_ballot'}
end

local k = tonumber(cfg[4])
local chosen = redis.call('HGET', KEYS[3], ARGV[1])
local n = 0
if chosen then
  n = select(2, string.gsub(chosen, ',', ',')) - 1
  if string.find(chosen, ',' .. candidate .. ',', 1, true) then
    return {'already_voted', k - n}
  end
  if n >= k then
    return {'vote_limit_reached', 0}
  end
  chosen = chosen .. candidate .. ','
else
  chosen = ',' .. candidate .. ','
end

redis.call('HSET', KEYS[3], ARGV[1], chosen)
redis.call('HINCRBY', KEYS[4], candidate, 1)
local id = redis.call('XADD', KEYS[5], '*', 'r', ARGV[3], 'c', candidate, 'v', ARGV[1], 'ih', ARGV[4], 'n', ARGV[5],
                        's', ARGV[6])
return {'ok', id, k - n - 1}

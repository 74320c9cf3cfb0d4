-- seq_block.lua: the sign-in window of one block of 100 phone numbers (runs of sequential numbers, issue 12).
-- KEYS[1] zset   member: the number's position in its block ("00".."99"), score: when it last asked (ms)
-- ARGV[1] position (ignored unless ARGV[4] = 1)   ARGV[2] now ms   ARGV[3] window ms   ARGV[4] 1: record it
-- Returns {distinct positions in the window, longest run of consecutive positions}.
-- The key is the keyed hash of the block (shared/fraud_signals.py): no phone number is stored.
local window = tonumber(ARGV[3])
local now = tonumber(ARGV[2])
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], window)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local seen = {}
for _, m in ipairs(members) do seen[tonumber(m)] = true end
local best, run = 0, 0
for i = 0, 99 do
  if seen[i] then
    run = run + 1
    if run > best then best = run end
  else
    run = 0
  end
end
return {#members, best}

-- otp_issue.lua: store a new one-time code unless the phone is throttled.
-- KEYS[1] otp hash (code_mac, tries)   KEYS[2] resend throttle   KEYS[3] hourly counter
-- ARGV[1] code mac   ARGV[2] ttl s   ARGV[3] resend s   ARGV[4] max sends per hour
-- ARGV[5] sends per hour without proof of work   ARGV[6] 1 when this request came with a good proof of work
-- Returns {"ok"}, {"rate_limited", retry_after_s} or {"challenge", sends this hour} (proof of work needed:
-- nothing stored, nothing counted). A third party who asks codes for someone else's phone spends the free
-- ones, then pays CPU for each further one, and never more than ARGV[4] an hour.
local wait = redis.call('TTL', KEYS[2])
if wait > 0 then
  return {'rate_limited', wait}
end
local sent = tonumber(redis.call('GET', KEYS[3]) or '0')
if sent >= tonumber(ARGV[4]) then
  local ttl = redis.call('TTL', KEYS[3])
  if ttl < 1 then ttl = 1 end
  return {'rate_limited', ttl}
end
if sent >= tonumber(ARGV[5]) and ARGV[6] ~= '1' then
  return {'challenge', sent}
end
if redis.call('INCR', KEYS[3]) == 1 then redis.call('EXPIRE', KEYS[3], 3600) end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'code_mac', ARGV[1], 'tries', 0)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {'ok'}

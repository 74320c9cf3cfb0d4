-- sms_budget.lua: the national SMS budget per minute and its circuit breaker (own hash tag {sms}).
-- KEYS[1] this minute's counter   KEYS[2] breaker (a key with TTL while open)
-- ARGV[1] mode: take | give   ARGV[2] budget per minute   ARGV[3] breaker cooldown s
-- Returns {state, n}: {"open", retry_after_s} while the breaker is open; {"tripped", cooldown_s} when this
-- call would have exceeded the budget and opened it (the SMS is not sent); {"ok", reserved this minute, this
-- one included}. give: returns one reservation whose SMS was not sent.
if ARGV[1] == 'give' then
  if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
  return {'ok', 0}
end
local wait = redis.call('TTL', KEYS[2])
if wait > 0 or wait == -1 then
  if wait < 1 then wait = 1 end
  return {'open', wait}
end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], 120) end
if n > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
  return {'tripped', tonumber(ARGV[3])}
end
return {'ok', n}

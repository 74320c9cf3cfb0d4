-- otp_verify.lua: check a one-time code; a code is dead after ARGV[2] wrong answers.
-- KEYS[1] otp hash (code_mac, tries)
-- ARGV[1] mac of the code offered   ARGV[2] max wrong answers
-- Returns {"ok", 0} (code consumed), {"invalid_code", tries left} (0: no live code: expired, used up or never
-- sent) or {"too_many_attempts", 0}.
local h = redis.call('HMGET', KEYS[1], 'code_mac', 'tries')
if not h[1] then
  return {'invalid_code', 0}
end
local max = tonumber(ARGV[2])
if tonumber(h[2]) >= max then
  return {'too_many_attempts', 0}
end
if h[1] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {'ok', 0}
end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
return {'invalid_code', max - tries}

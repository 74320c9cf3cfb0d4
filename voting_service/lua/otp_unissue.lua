-- otp_unissue.lua: take back a code the SMS gateway did not accept (services/otp.py), as if it was never asked.
-- KEYS as otp_issue.lua: [1] otp hash   [2] resend throttle   [3] hourly counter
-- ARGV[1] the code mac that was issued
-- Only that code: the code, the resend throttle and one count of the hour go; a newer code is left alone.
-- Returns 1 when taken back, 0 when the code was no longer there.
if redis.call('HGET', KEYS[1], 'code_mac') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then
  redis.call('DECR', KEYS[3])
end
return 1

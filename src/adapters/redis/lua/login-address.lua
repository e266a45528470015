-- Reserves one citizen-login attempt for a source address in a sliding window (DESIGN §11): at most
-- ARGV[3] attempts per ARGV[2] ms from one address across all cards. Counted before the PIN is
-- checked, so concurrent guesses cannot all pass; a successful login gives its slot back (ZREM).
-- KEYS[1]  sorted set of the address's attempts: member = attempt id, score = its time (ms)
-- ARGV[1]  now (ms)   ARGV[2] window (ms)   ARGV[3] attempts max   ARGV[4] this attempt's id
-- Returns {1, 0} when reserved, {0, retryAfterMs} when the address is at its maximum.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}

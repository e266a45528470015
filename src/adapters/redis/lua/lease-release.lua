-- lease-release: ends a lease only if this holder still has it (a lease that expired and was taken
-- by another holder is not theirs to end).
-- KEYS[1] lease key   ARGV[1] the holder's token
-- returns 1 when released, 0 when the lease is no longer this holder's
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

-- load-card: installs a card's state built from PostgreSQL, only if no state is cached.
-- KEYS[1] card state hash
-- ARGV    field, value pairs
-- returns 1 when installed, 0 when state was already present
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1

-- load-card: installs a card's state built from PostgreSQL, only if no state is cached, no command
-- of the card is in flight, and none ended since the snapshot was begun (the generation the caller
-- read with card-probe.lua before it read PostgreSQL): otherwise the snapshot may miss a commit.
-- KEYS[1] card state hash   KEYS[2] the card's in-flight hash
-- ARGV[1] generation read before the snapshot   ARGV[2..] field, value pairs
-- returns 1 when installed, 0 when state was already present, -1 when busy or changed meanwhile
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local generation = redis.call('HGET', KEYS[2], '#g') or '0'
local entries = redis.call('HLEN', KEYS[2])
if redis.call('HEXISTS', KEYS[2], '#g') == 1 then entries = entries - 1 end
if entries > 0 or generation ~= ARGV[1] then
  return -1
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1

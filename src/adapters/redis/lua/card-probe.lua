-- card-probe: before a snapshot is read from PostgreSQL: how many commands of the card are in
-- flight and the in-flight generation (load-card.lua installs only if it is unchanged).
-- KEYS[1] the card's in-flight hash
-- returns {commands in flight, generation}
local generation = redis.call('HGET', KEYS[1], '#g') or '0'
local entries = redis.call('HLEN', KEYS[1])
if redis.call('HEXISTS', KEYS[1], '#g') == 1 then entries = entries - 1 end
return {entries, generation}

-- abandon: a command whose commit outcome is unknown (or whose owner died, in recovery): drops the
-- card's cached state, fare state and the command's record and pending mark, so that the card
-- reloads from PostgreSQL, once no other command of it is in flight (load-card.lua).
-- KEYS[1] card state hash   KEYS[2] fare state   KEYS[3] command idempotency key
-- KEYS[4] the owner's pending set   KEYS[5] the card's in-flight hash
-- ARGV[1] pending member    ARGV[2] the command's key opKind:opId
-- ARGV[3] owner id: when given, the in-flight entry is dropped only if that owner still holds it
local holder = redis.call('HGET', KEYS[5], ARGV[2])
if ARGV[3] ~= '' and holder and holder ~= ARGV[3] then
  redis.call('SREM', KEYS[4], ARGV[1])
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
if redis.call('HDEL', KEYS[5], ARGV[2]) == 1 then redis.call('HINCRBY', KEYS[5], '#g', 1) end
return 1

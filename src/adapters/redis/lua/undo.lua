-- undo: reverses a command's Redis effect when its ledger commit failed, and forgets the command.
-- KEYS[1] card state hash   KEYS[2] command idempotency key   KEYS[3] the owner's pending set
-- KEYS[4] the card's in-flight hash
-- ARGV[1] purse delta to apply (signed)   ARGV[2] medical delta to apply (signed)
-- ARGV[3] daily counter delta (signed)    ARGV[4] business date   ARGV[5] pending member
-- ARGV[6] the command's key opKind:opId
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'pu', ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'me', ARGV[2])
  local daily = tonumber(ARGV[3])
  if daily ~= 0 and redis.call('HGET', KEYS[1], 'pd') == ARGV[4] then
    local spent = tonumber(redis.call('HGET', KEYS[1], 'ps')) + daily
    if spent < 0 then spent = 0 end
    redis.call('HSET', KEYS[1], 'ps', spent)
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[5])
if redis.call('HDEL', KEYS[4], ARGV[6]) == 1 then redis.call('HINCRBY', KEYS[4], '#g', 1) end
return 1

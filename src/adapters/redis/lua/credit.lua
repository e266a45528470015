-- credit: the credit gate (top-ups, reversals, refunds, medical allocations, cancellations).
-- KEYS[1] card state hash   KEYS[2] command idempotency key   KEYS[3] the owner's pending set
-- KEYS[4] the card's in-flight hash (keys.cardInflight)
-- ARGV[1] request hash      ARGV[2] business date
-- ARGV[3] purse credit fen  ARGV[4] medical credit fen
-- ARGV[5] daily counter give-back (a reversed payment frees its share of today's limit)
-- ARGV[6] pending member    ARGV[7] idempotency ttl seconds
-- ARGV[8] '1' requires an active card (top-ups), else any status (money going back to the holder)
-- ARGV[9] the command's key opKind:opId   ARGV[10] owner id
-- returns {'DUP', record} | {'MISS'} | {'DECLINE', code} | {'OK', purse, medical}
local existing = redis.call('GET', KEYS[2])
if existing then
  return {'DUP', existing}
end
local state = redis.call('HMGET', KEYS[1], 'st', 'pd', 'ps')
if not state[1] then
  return {'MISS'}
end
if ARGV[8] == '1' then
  if state[1] == 'lost' then return {'DECLINE', '41'} end
  if state[1] ~= 'active' then return {'DECLINE', '43'} end
end
-- Amounts go to Redis as the decimal strings they arrived as (exact up to 2^63).
local newPurse = redis.call('HINCRBY', KEYS[1], 'pu', ARGV[3])
local newMedical = redis.call('HINCRBY', KEYS[1], 'me', ARGV[4])
local giveBack = tonumber(ARGV[5])
if giveBack > 0 and state[2] == ARGV[2] then
  local spent = tonumber(state[3]) - giveBack
  if spent < 0 then spent = 0 end
  redis.call('HSET', KEYS[1], 'ps', spent)
end
redis.call('SET', KEYS[2], cjson.encode({s = 'p', h = ARGV[1]}), 'EX', tonumber(ARGV[7]))
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('HSET', KEYS[4], ARGV[9], ARGV[10])
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[7]))
return {'OK', string.format('%d', newPurse), string.format('%d', newMedical)}

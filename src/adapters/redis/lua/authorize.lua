-- authorize: the debit gate of every money command (payments, fares, medical settlements).
-- Checks idempotency, card status, expiry, debt, balance and the daily limit, then moves the
-- balance and records the command as pending until its ledger commit is confirmed.
-- KEYS[1] card state hash   KEYS[2] command idempotency key   KEYS[3] the owner's pending set
-- KEYS[4] the card's in-flight hash (keys.cardInflight)
-- ARGV[1] request hash      ARGV[2] business date (YYYY-MM-DD)
-- ARGV[3] purse debit fen   ARGV[4] medical debit fen
-- ARGV[5] daily counter add (payments)  ARGV[6] daily maximum (0 = none)
-- ARGV[7] pending member    ARGV[8] idempotency ttl seconds
-- ARGV[9] '0' keeps the purse ≥ 0; '1' allows it to go negative (uploaded offline taps);
--         'cap:<fen>' allows debt down to −fen, further → 51 (offline ISO advices);
--         '2' as '1', and a lost or blocked card is charged too (an offline ride made before the
--         report, or before the validator could know; a correction of rides already taken)
-- ARGV[13] the command's key opKind:opId   ARGV[14] owner id (ARGV[10..12] are '' unless a tap)
-- Transit taps only (src/app/transit.ts): KEYS[5] the card's fare state ("<version>|<json>"),
-- ARGV[10] the version the tap was rated on ('' = no state), ARGV[11] the next state, ARGV[12] its
-- ttl seconds. Another version → {'STALE'} (nothing moved; the caller re-rates). A card in debt is
-- declined 51 even for a free ride, unless ARGV[9] allows debt.
-- returns {'DUP', record} | {'MISS'} | {'DECLINE', code} | {'STALE'} | {'OK', purse, medical}
local existing = redis.call('GET', KEYS[2])
if existing then
  return {'DUP', existing}
end
local state = redis.call('HMGET', KEYS[1], 'st', 'ex', 'pu', 'me', 'pd', 'ps')
if not state[1] then
  return {'MISS'}
end
if ARGV[9] ~= '2' then
  if state[1] == 'lost' then return {'DECLINE', '41'} end
  if state[1] ~= 'active' then return {'DECLINE', '43'} end
end
if state[2] and state[2] < ARGV[2] then return {'DECLINE', '54'} end
local purse = tonumber(state[3])
local medical = tonumber(state[4])
local purseDebit = tonumber(ARGV[3])
local medicalDebit = tonumber(ARGV[4])
local allowDebt = ARGV[9] == '1' or ARGV[9] == '2'
local debtCap = string.match(ARGV[9], '^cap:(%d+)$')
if debtCap then
  -- Checked here, with the debit, so that concurrent advices cannot pass the cap together.
  if purseDebit > 0 and purse - purseDebit < -tonumber(debtCap) then return {'DECLINE', '51'} end
  allowDebt = true
end
if KEYS[5] then
  local fare = redis.call('GET', KEYS[5])
  local version = ''
  if fare then version = string.match(fare, '^([^|]*)|') or '' end
  if version ~= ARGV[10] then return {'STALE'} end
  if not allowDebt and purse < 0 then return {'DECLINE', '51'} end
end
if not allowDebt then
  if purseDebit > 0 and purse < 0 then return {'DECLINE', '51'} end
  if purse < purseDebit then return {'DECLINE', '51'} end
end
if medical < medicalDebit then return {'DECLINE', '51'} end
local dailyAdd = tonumber(ARGV[5])
local dailyMax = tonumber(ARGV[6])
local spent = 0
if state[5] == ARGV[2] then spent = tonumber(state[6]) end
if dailyMax > 0 and spent + dailyAdd > dailyMax then return {'DECLINE', '61'} end
-- Amounts go to Redis as decimal strings (a Lua -0 would not be an integer to HINCRBY).
local newPurse = purse
local newMedical = medical
if purseDebit ~= 0 then newPurse = redis.call('HINCRBY', KEYS[1], 'pu', '-' .. ARGV[3]) end
if medicalDebit ~= 0 then newMedical = redis.call('HINCRBY', KEYS[1], 'me', '-' .. ARGV[4]) end
if dailyAdd > 0 then
  redis.call('HSET', KEYS[1], 'pd', ARGV[2], 'ps', spent + dailyAdd)
end
if KEYS[5] then redis.call('SET', KEYS[5], ARGV[11], 'EX', tonumber(ARGV[12])) end
redis.call('SET', KEYS[2], cjson.encode({s = 'p', h = ARGV[1]}), 'EX', tonumber(ARGV[8]))
redis.call('SADD', KEYS[3], ARGV[7])
redis.call('HSET', KEYS[4], ARGV[13], ARGV[14])
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[8]))
return {'OK', string.format('%d', newPurse), string.format('%d', newMedical)}

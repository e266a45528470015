-- refund-reserve: holds part of a payment's refundable remainder for a refund or its reversal,
-- atomically, so that any number of processes cannot give back more than the payment.
-- KEYS[1] the payment's remainder hash ({card:<cardNo>}:refunds:<paymentId>):
--         'total' fen held or given back, 'r:<refundId>' fen held by one refund, 'v' fen of the reversal
-- ARGV[1] 'refund' | 'reverse'   ARGV[2] refund id (refund only)   ARGV[3] refund fen (refund only)
-- ARGV[4] the payment's fen      ARGV[5] fen the ledger holds as refunded (used only to rebuild)
-- ARGV[6] fen the ledger holds as reversed, '0' when none (used only to rebuild)   ARGV[7] ttl seconds
-- returns {'OK', fen} newly held | {'HELD', fen} already held by this id | {'REVERSED'} | {'OVER'} | {'NONE'}
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then
  -- Missing (first use, expired or flushed): rebuilt from the ledger's committed refunds.
  local rebuilt = tonumber(ARGV[5]) + tonumber(ARGV[6])
  redis.call('HSET', key, 'total', tostring(rebuilt))
  if ARGV[6] ~= '0' then redis.call('HSET', key, 'v', ARGV[6]) end
end
redis.call('EXPIRE', key, tonumber(ARGV[7]))
local payment = tonumber(ARGV[4])
local total = tonumber(redis.call('HGET', key, 'total'))
if ARGV[1] == 'refund' then
  local field = 'r:' .. ARGV[2]
  local held = redis.call('HGET', key, field)
  if held then return {'HELD', held} end
  if redis.call('HEXISTS', key, 'v') == 1 then return {'REVERSED'} end
  local amount = tonumber(ARGV[3])
  if total + amount > payment then return {'OVER'} end
  redis.call('HSET', key, field, ARGV[3], 'total', tostring(total + amount))
  return {'OK', ARGV[3]}
end
local held = redis.call('HGET', key, 'v')
if held then return {'HELD', held} end
local remaining = payment - total
if remaining <= 0 then return {'NONE'} end
redis.call('HSET', key, 'v', tostring(remaining), 'total', tostring(payment))
return {'OK', tostring(remaining)}

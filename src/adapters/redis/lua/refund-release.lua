-- refund-release: gives back a hold of refund-reserve when its command was declined (nothing moved).
-- KEYS[1] the payment's remainder hash   ARGV[1] the hold's field ('r:<refundId>' or 'v')
-- returns 1 when released, 0 when there was no such hold
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'total', -tonumber(held))
return 1

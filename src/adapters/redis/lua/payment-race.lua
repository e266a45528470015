-- payment-race: the first of a payment and its reversal to arrive claims the payment's race key.
-- KEYS[1] race key ({payment:<terminalId>:<paymentId>}:race)
-- ARGV[1] the claim: 'p:<cardNo>' (the payment is going ahead) or 'r' (a reversal came first)
-- ARGV[2] ttl seconds
-- returns '' when this call claimed the key, else the claim that was there first
local first = redis.call('GET', KEYS[1])
if first then return first end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return ''

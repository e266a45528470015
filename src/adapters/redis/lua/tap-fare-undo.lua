-- tap-fare-undo: after a transit tap's ledger commit failed, puts back the card's fare state that the
-- tap replaced, if the state is still the one the tap set; otherwise (a later tap built on it) the
-- state is dropped, and the next tap rebuilds it from PostgreSQL (the taps table).
-- KEYS[1] card fare state ("<version>|<json>")
-- ARGV[1] value the tap set   ARGV[2] value before it ('' = there was none)   ARGV[3] ttl seconds
-- returns 1 restored, 0 dropped or nothing to do
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  if ARGV[2] == '' then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  end
  return 1
end
if current then redis.call('DEL', KEYS[1]) end
return 0

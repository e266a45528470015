-- set-fields: updates fields of a cached card state only when the state is cached (status changes,
-- PIN failures); a missing state is loaded from PostgreSQL later with the new values.
-- KEYS[1] card state hash
-- ARGV    field, value pairs
-- returns 1 when updated, 0 when nothing was cached
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1

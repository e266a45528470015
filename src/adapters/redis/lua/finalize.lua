-- finalize: after the ledger commit, stores the command's answer for replays and clears pending.
-- KEYS[1] command idempotency key   KEYS[2] the owner's pending set   KEYS[3] the card's in-flight hash
-- ARGV[1] final record (JSON)       ARGV[2] idempotency ttl seconds   ARGV[3] pending member
-- ARGV[4] the command's key opKind:opId
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
redis.call('SREM', KEYS[2], ARGV[3])
if redis.call('HDEL', KEYS[3], ARGV[4]) == 1 then redis.call('HINCRBY', KEYS[3], '#g', 1) end
return 1

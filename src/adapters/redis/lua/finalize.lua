-- finalize: after the ledger commit, stores the command's answer for replays and clears pending.
-- KEYS[1] command idempotency key   KEYS[2] pending set
-- ARGV[1] final record (JSON)       ARGV[2] idempotency ttl seconds   ARGV[3] pending member
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
redis.call('SREM', KEYS[2], ARGV[3])
return 1

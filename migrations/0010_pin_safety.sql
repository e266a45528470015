-- Up Migration
-- Card PIN locks that end, per-terminal wrong-PIN watch, and the audit of operators' unlocks.

-- Locks made before locks could end: they end 24 hours from now (pinLockMs).
UPDATE cards SET pin_locked_until = now() + interval '24 hours'
 WHERE pin_failures >= 3 AND pin_locked_until IS NULL;

-- The last wrong PIN a terminal sent for each card; the count of cards within the window decides
-- whether the terminal is blocked from PIN transactions.
CREATE TABLE terminal_pin_failures (
  terminal_id text NOT NULL,
  card_no     text NOT NULL,
  failed_at   timestamptz NOT NULL,
  PRIMARY KEY (terminal_id, card_no)
);

-- Terminals refused PIN transactions (63) until an operator clears them.
CREATE TABLE terminal_pin_blocks (
  terminal_id text PRIMARY KEY,
  blocked_at  timestamptz NOT NULL,
  cards       integer NOT NULL
);

-- Append-only record of operators' security actions (PIN unlocks, terminal PIN clears).
CREATE TABLE security_audit (
  audit_id   bigserial PRIMARY KEY,
  action     text NOT NULL,
  subject    text NOT NULL,
  operator   text NOT NULL,
  at         timestamptz NOT NULL,
  detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX security_audit_subject ON security_audit (subject, at);

-- Down Migration
DROP TABLE security_audit;
DROP TABLE terminal_pin_blocks;
DROP TABLE terminal_pin_failures;

-- Up Migration
-- tapId and claimId are scoped to the terminal that sent them (DESIGN §11), like paymentId,
-- topupId and refundId (0010b): the same id from two validators or two hospital POS is two
-- commands. Existing rows keep their ids; their scope is derived from the terminal they already
-- record, so nothing is rewritten by UPDATE (the journal is append-only).

-- The journal: 'tap', 'medical-settle' and 'medical-cancel' join the scoped kinds. A generated
-- column's expression cannot be changed in place (PostgreSQL 15): it is dropped and added again,
-- which recomputes it for every row; the unique key on it goes and comes back with it.
ALTER TABLE transfers DROP COLUMN op_scope;
ALTER TABLE transfers ADD COLUMN op_scope text GENERATED ALWAYS AS (
  CASE WHEN op_kind IN ('payment', 'payment-reversal', 'refund', 'topup', 'tap', 'medical-settle', 'medical-cancel')
       THEN coalesce(terminal_id, '@' || coalesce(detail->>'channel', ''))
       ELSE '' END) STORED;
CREATE UNIQUE INDEX transfers_op_key ON transfers (op_kind, op_scope, op_id, leg);

-- Taps: one per (validator, tapId).
ALTER TABLE taps DROP CONSTRAINT taps_pkey;
ALTER TABLE taps ADD PRIMARY KEY (terminal_id, tap_id);
CREATE INDEX taps_tap_id ON taps (tap_id);

-- Claims: one per (POS, claimId); the scope mirrors the journal's op_scope of the claim's commands.
ALTER TABLE medical_claims ADD COLUMN claim_scope text GENERATED ALWAYS AS (coalesce(terminal_id, '@')) STORED;
ALTER TABLE medical_claims DROP CONSTRAINT medical_claims_pkey;
ALTER TABLE medical_claims ADD CONSTRAINT medical_claims_scope_id_key UNIQUE (claim_scope, claim_id);
CREATE INDEX medical_claims_id ON medical_claims (claim_id);

-- Down Migration
-- Fails (as it must) once two terminals have used the same tapId or claimId.
DROP INDEX medical_claims_id;
ALTER TABLE medical_claims DROP CONSTRAINT medical_claims_scope_id_key;
ALTER TABLE medical_claims ADD PRIMARY KEY (claim_id);
ALTER TABLE medical_claims DROP COLUMN claim_scope;
DROP INDEX taps_tap_id;
ALTER TABLE taps DROP CONSTRAINT taps_pkey;
ALTER TABLE taps ADD PRIMARY KEY (tap_id);
ALTER TABLE transfers DROP COLUMN op_scope;
ALTER TABLE transfers ADD COLUMN op_scope text GENERATED ALWAYS AS (
  CASE WHEN op_kind IN ('payment', 'payment-reversal', 'refund', 'topup')
       THEN coalesce(terminal_id, '@' || coalesce(detail->>'channel', ''))
       ELSE '' END) STORED;
CREATE UNIQUE INDEX transfers_op_key ON transfers (op_kind, op_scope, op_id, leg);

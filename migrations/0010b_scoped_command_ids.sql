-- Up Migration
-- Terminal command ids are scoped to the terminal that sent them (DESIGN §11): the same paymentId,
-- topupId or refundId from two terminals is two commands. The scope is derived from columns every
-- row already has (so the append-only journal is not rewritten): the command's terminal, or for an
-- admin-token top-up its channel ('@bank', '@app', …). Other kinds of command keep one global scope.
ALTER TABLE transfers ADD COLUMN op_scope text GENERATED ALWAYS AS (
  CASE WHEN op_kind IN ('payment', 'payment-reversal', 'refund', 'topup')
       THEN coalesce(terminal_id, '@' || coalesce(detail->>'channel', ''))
       ELSE '' END) STORED;
CREATE UNIQUE INDEX transfers_op_key ON transfers (op_kind, op_scope, op_id, leg);
ALTER TABLE transfers DROP CONSTRAINT transfers_op_kind_op_id_leg_key;
-- Lookups by (op_kind, op_id) across scopes (jobs, medical claims) keep an index.
CREATE INDEX transfers_op ON transfers (op_kind, op_id);

-- Down Migration
DROP INDEX transfers_op;
ALTER TABLE transfers ADD CONSTRAINT transfers_op_kind_op_id_leg_key UNIQUE (op_kind, op_id, leg);
DROP INDEX transfers_op_key;
ALTER TABLE transfers DROP COLUMN op_scope;

-- Up Migration
-- ISO 8583 gateway (docs/iso8583.md): one row per financial request a POS sent, keyed as DESIGN §3
-- says (terminal + STAN + transmission date-time), so that a retransmission gets the first answer
-- and the same key with other content gets 94, also after a restart. Card numbers are not stored.
CREATE TABLE iso_messages (
  terminal_id   text NOT NULL,
  stan          text NOT NULL CHECK (stan ~ '^[0-9]{6}$'),
  transmitted   text NOT NULL CHECK (transmitted ~ '^[0-9]{10}$'),
  mti           text NOT NULL CHECK (mti ~ '^[0-9]{4}$'),
  -- SHA-256 (base64url, 22 chars) of the request from the MTI up to, not including, the MAC.
  request_hash  text NOT NULL,
  op            text NOT NULL CHECK (op IN ('purchase', 'refund', 'topup', 'balance', 'advice', 'reversal', 'reversal-advice', 'batch', 'medical')),
  merchant_id   text,
  -- Retrieval reference number of an approved purchase (the request's F37 or the one the answer gave).
  rrn           text,
  -- For reversals: the original's key `terminal:stan:transmitted` (also stops a late original).
  original_key  text,
  code          text,
  -- Fields the answer added to the echo (39, 38, 54, 37, ...), as {"39": "00", ...}; NULL while pending.
  response      jsonb,
  received_at   timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  PRIMARY KEY (terminal_id, stan, transmitted)
);
CREATE INDEX iso_messages_rrn ON iso_messages (merchant_id, rrn) WHERE rrn IS NOT NULL;
CREATE INDEX iso_messages_original ON iso_messages (original_key) WHERE original_key IS NOT NULL;
CREATE INDEX iso_messages_received ON iso_messages (received_at);

-- Batch totals (0500) as the terminal reported them and as the ledger counted them. A batch is the
-- terminal's transactions after the previous accepted batch (transfer ids in (from, to]).
CREATE TABLE iso_batches (
  terminal_id      text NOT NULL,
  business_date    date NOT NULL,
  batch_no         text NOT NULL CHECK (batch_no ~ '^[0-9]{1,12}$'),
  debit_count      bigint NOT NULL CHECK (debit_count >= 0),
  debit_amount     bigint NOT NULL CHECK (debit_amount >= 0),
  credit_count     bigint NOT NULL CHECK (credit_count >= 0),
  credit_amount    bigint NOT NULL CHECK (credit_amount >= 0),
  ledger_debit_count    bigint NOT NULL,
  ledger_debit_amount   bigint NOT NULL,
  ledger_credit_count   bigint NOT NULL,
  ledger_credit_amount  bigint NOT NULL,
  accepted         boolean NOT NULL,
  from_transfer_id bigint NOT NULL,
  to_transfer_id   bigint NOT NULL,
  source           text NOT NULL DEFAULT 'iso0500',
  received_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (terminal_id, business_date, batch_no)
);
CREATE INDEX iso_batches_accepted ON iso_batches (terminal_id, to_transfer_id DESC) WHERE accepted;

-- Down Migration
DROP TABLE iso_batches;
DROP TABLE iso_messages;

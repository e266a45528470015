-- Up Migration
-- Two migrations that shared the number 0003 (0003_iso and 0003_taps), folded into one so that
-- migration numbers are unique. Databases that recorded the old names in pgmigrations are brought
-- to this name by the migrate runner (src/adapters/postgres/migrate.ts, foldedMigrations).

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

-- Transit taps (docs/transit.md): one row per tap the back office decided, written by the ledger
-- writer in the SAME transaction as the tap's fare transfer (a free or capped ride has no transfer,
-- the row is then its only durable record). tap_id is the terminal's idempotency key. Rejected rows
-- come from offline uploads (so that a re-upload gets the first answer); online declines are only
-- remembered in Redis. Rows are never updated: a late tap re-rates the day with a 'fare-adjust'
-- transfer, and `fare` stays what this tap was charged when it was accepted.
CREATE TABLE taps (
  tap_id        text PRIMARY KEY,
  card_no       text NOT NULL,
  terminal_id   text NOT NULL,
  -- Operator credited with the fare (route's or metro's operator, the taxi terminal's).
  operator_id   text,
  mode          text NOT NULL CHECK (mode IN ('bus', 'metro', 'taxi')),
  kind          text NOT NULL CHECK (kind IN ('bus', 'metro-in', 'metro-out', 'taxi')),
  route_id      text,
  station_id    text,
  tapped_at     timestamptz NOT NULL,
  -- 04:00–04:00 Asia/Shanghai day of tapped_at: the day the fare belongs to.
  business_date date NOT NULL,
  -- Fen charged for this tap (0 for a tap-in, a transfer, a capped leg; the meter for taxi).
  fare          bigint NOT NULL DEFAULT 0 CHECK (fare >= 0),
  status        text NOT NULL CHECK (status IN ('accepted', 'rejected')),
  code          text NOT NULL CHECK (code ~ '^[0-9]{2}$'),
  -- Metro: the journey this tap opened (tap-in) or ended (tap-out); see docs/transit.md.
  journey_id    text,
  -- The fare rules applied, in order (or the reason of a rejection).
  explanation   jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- true when it came in an offline upload (/v1/taps/batch).
  uploaded      boolean NOT NULL DEFAULT false,
  request_hash  text NOT NULL,
  -- What a replay of the tap is answered with beside the columns: the balances after it.
  detail        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX taps_card_day ON taps (card_no, business_date);
CREATE INDEX taps_day_route ON taps (business_date, route_id) WHERE route_id IS NOT NULL;
CREATE INDEX taps_day_station ON taps (business_date, station_id) WHERE station_id IS NOT NULL;

-- Down Migration
DROP TABLE taps;
DROP TABLE iso_batches;
DROP TABLE iso_messages;

-- Up Migration
-- The durable core: registry records, cards, the double-entry ledger and the parties it pays.

CREATE TABLE operators (
  operator_id     text PRIMARY KEY CHECK (operator_id ~ '^[A-Za-z0-9_-]{1,15}$'),
  name            text NOT NULL,
  mode            text NOT NULL CHECK (mode IN ('bus', 'metro', 'taxi')),
  commission_rate numeric(8, 6) NOT NULL DEFAULT 0 CHECK (commission_rate >= 0 AND commission_rate < 1),
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE merchants (
  merchant_id     text PRIMARY KEY CHECK (merchant_id ~ '^[A-Za-z0-9_-]{1,15}$'),
  name            text NOT NULL,
  category        text NOT NULL CHECK (category IN ('retail', 'medical')),
  mcc             text NOT NULL CHECK (mcc ~ '^[0-9]{4}$'),
  commission_rate numeric(8, 6) NOT NULL DEFAULT 0 CHECK (commission_rate >= 0 AND commission_rate < 1),
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE terminals (
  terminal_id   text PRIMARY KEY CHECK (terminal_id ~ '^[A-Za-z0-9]{8}$'),
  kind          text NOT NULL CHECK (kind IN ('bus', 'gate', 'taxi', 'pos', 'kiosk')),
  operator_id   text REFERENCES operators (operator_id),
  merchant_id   text REFERENCES merchants (merchant_id),
  route_id      text,
  station_id    text,
  -- The API key is only ever stored as its SHA-256; keys are encrypted (below).
  api_key_hash  bytea NOT NULL UNIQUE,
  -- {mak, tpk, tmk} as JSON, AES-256-GCM under MASTER_KEY; never stored or logged in clear.
  keys_enc      bytea NOT NULL,
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE citizens (
  citizen_id       bigserial PRIMARY KEY,
  name             text NOT NULL,
  -- Population-registry id number: HMAC for lookup, AES-GCM ciphertext for the registry, masked for display.
  id_number_hmac   bytea NOT NULL UNIQUE,
  id_number_enc    bytea NOT NULL,
  id_number_masked text NOT NULL,
  insured          boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE card_serial START 1;

CREATE TABLE cards (
  card_no          text PRIMARY KEY CHECK (card_no ~ '^[0-9]{16}$'),
  citizen_id       bigint NOT NULL REFERENCES citizens (citizen_id),
  card_type        text NOT NULL CHECK (card_type IN ('adult', 'student', 'senior', 'disabled')),
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'lost', 'blocked')),
  expires_on       date NOT NULL,
  pin_hash         text,
  pin_failures     integer NOT NULL DEFAULT 0,
  pin_locked_until timestamptz,
  replaced_by      text REFERENCES cards (card_no),
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cards_citizen ON cards (citizen_id);

-- Balance convention: balance = sum of credits - sum of debits, so all balances sum to zero and a
-- card's purse is positive while it holds money.
CREATE TABLE accounts (
  account_id bigserial PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('purse', 'medical', 'receivable', 'payable', 'clearing',
                                           'medical_fund', 'fees', 'suspense', 'settlement')),
  owner_id   text NOT NULL DEFAULT '',
  balance    bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, owner_id)
);

-- Append-only journal. One command (op_kind, op_id) writes one or more legs; the pair is the
-- idempotency key, unique per kind of command.
CREATE TABLE transfers (
  transfer_id       bigserial PRIMARY KEY,
  op_kind           text NOT NULL,
  op_id             text NOT NULL,
  leg               smallint NOT NULL DEFAULT 0,
  debit_account_id  bigint NOT NULL REFERENCES accounts (account_id),
  credit_account_id bigint NOT NULL REFERENCES accounts (account_id),
  amount            bigint NOT NULL CHECK (amount > 0),
  card_no           text,
  terminal_id       text,
  business_date     date NOT NULL,
  request_hash      text NOT NULL,
  detail            jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (debit_account_id <> credit_account_id),
  UNIQUE (op_kind, op_id, leg)
);
CREATE INDEX transfers_card ON transfers (card_no, transfer_id DESC) WHERE card_no IS NOT NULL;
CREATE INDEX transfers_day ON transfers (business_date, op_kind);
CREATE INDEX transfers_terminal ON transfers (terminal_id, business_date) WHERE terminal_id IS NOT NULL;

CREATE FUNCTION transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'transfers are append-only';
END $$;
CREATE TRIGGER transfers_no_update BEFORE UPDATE OR DELETE ON transfers
  FOR EACH ROW EXECUTE FUNCTION transfers_append_only();

-- System accounts of DESIGN §2 that exist from the start.
INSERT INTO accounts (kind, owner_id) VALUES
  ('medical_fund', ''), ('fees', ''), ('suspense', ''), ('settlement', ''),
  ('clearing', 'kiosk'), ('clearing', 'bank'), ('clearing', 'app'), ('clearing', 'counter');

-- Down Migration
DROP TABLE transfers;
DROP FUNCTION transfers_append_only;
DROP TABLE accounts;
DROP TABLE cards;
DROP SEQUENCE card_serial;
DROP TABLE citizens;
DROP TABLE terminals;
DROP TABLE merchants;
DROP TABLE operators;

-- Up Migration
-- Pending top-up orders (DESIGN §11, docs/security.md): a citizen at a kiosk or in the app asks for
-- a top-up; nothing moves until the kiosk terminal (its cash or card acceptor took the money) or
-- the bank channel (admin token) confirms. The order's claim by one confirmer is a single UPDATE
-- from 'pending', so two confirmers can never both move money; the money itself moves through the
-- ordinary top-up command `order-<orderId>`, idempotent as every top-up is.
CREATE TABLE topup_orders (
  order_id       text PRIMARY KEY CHECK (order_id ~ '^[0-9a-f]{32}$'),
  card_no        text NOT NULL CHECK (card_no ~ '^[0-9]{16}$'),
  amount_fen     bigint NOT NULL CHECK (amount_fen > 0),
  status         text NOT NULL CHECK (status IN ('pending', 'confirming', 'confirmed', 'declined', 'cancelled')),
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  -- who confirmed it: a kiosk terminal id with channel 'kiosk', or 'admin' with channel bank/app
  channel        text CHECK (channel IN ('kiosk', 'bank', 'app')),
  confirmed_by   text,
  decided_at     timestamptz,
  code           text CHECK (code ~ '^[0-9]{2}$'),
  transaction_id text,
  CHECK ((status IN ('pending', 'cancelled')) = (confirmed_by IS NULL))
);
CREATE INDEX topup_orders_card ON topup_orders (card_no, created_at DESC);

-- Down Migration
DROP TABLE topup_orders;

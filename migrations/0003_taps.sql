-- Up Migration
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

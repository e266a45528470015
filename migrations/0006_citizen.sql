-- Up Migration
-- Citizen login guard: wrong-PIN counting and the 15-minute lock of the citizen login (kiosk and
-- app). Kept apart from cards.pin_failures, which counts PIN tries at POS terminals (3 → code 75):
-- the two channels have different rules, and a thief guessing PINs at a shop must not lock the
-- owner out of reporting the loss online (nor the other way round). Keyed by any Luhn-valid card
-- number, known or not, so that the answers do not tell which card numbers exist (no foreign key).
CREATE TABLE citizen_login_guard (
  card_no      text PRIMARY KEY CHECK (card_no ~ '^[0-9]{16}$'),
  failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  locked_until timestamptz,
  updated_at   timestamptz NOT NULL
);
CREATE INDEX citizen_login_guard_updated ON citizen_login_guard (updated_at);

-- Down Migration
DROP TABLE citizen_login_guard;

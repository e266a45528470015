-- Up Migration
-- The readers' hotlist as a versioned change log: every change of a card's listing (lost,
-- blocked, in debt, or cleared) gets the next version, so a validator asks for the delta since
-- the version it holds.
CREATE TABLE hotlist_changes (
  version    bigserial PRIMARY KEY,
  card_no    text NOT NULL REFERENCES cards (card_no),
  listed     boolean NOT NULL,
  reason     text NOT NULL CHECK (reason IN ('lost', 'blocked', 'debt', 'cleared')),
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hotlist_changes_card ON hotlist_changes (card_no, version DESC);

-- Down Migration
DROP TABLE hotlist_changes;

-- Up Migration
-- Per-card offline risk budgets for validators (docs/transit.md, "Offline risk budget"): how many
-- rides a card may take at one offline reader before it must be seen online. A versioned change
-- log like hotlist_changes: a reader asks for the delta since the version it holds. A card with no
-- row has a budget of 0 (once a reader holds any budget version).
CREATE TABLE offline_budgets (
  version    bigserial PRIMARY KEY,
  card_no    text NOT NULL REFERENCES cards (card_no),
  rides      integer NOT NULL CHECK (rides >= 0),
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offline_budgets_card ON offline_budgets (card_no, version DESC);

-- Down Migration
DROP TABLE offline_budgets;

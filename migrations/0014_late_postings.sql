-- Up Migration
-- Business dates that received postings after their own day (offline taps uploaded late, the
-- corrections their re-rating books). Clearing looks at these dates to settle what arrived after
-- the date was cleared (docs/operations.md, "Late postings"), instead of scanning every past day.
CREATE TABLE late_postings (
  business_date date PRIMARY KEY,
  marked_at     timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE late_postings;

-- Up Migration
-- Transit (docs/transit.md): fare policies as versioned, effective-dated data; the business days
-- whose open metro journeys were closed; and the journeys of a closed day, as the nightly jobs read
-- them (close-journeys writes them, ridership counts them).

-- A tap is rated with the policy of the latest effective_from on or before its business date.
-- source 'json': body is the policy file (data/demo-network.json shape); 'gtfs': body is
-- {"baseVersion": v, "files": {"fare_products.txt": "...", ...}}, imported over the base policy.
CREATE TABLE fare_policies (
  version        text PRIMARY KEY,
  effective_from date NOT NULL,
  source         text NOT NULL CHECK (source IN ('json', 'gtfs')),
  body           jsonb NOT NULL,
  loaded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fare_policies_effective ON fare_policies (effective_from DESC);

-- Days closed by closeOpenJourneys (the close-journeys job): from then on a re-rating of the day
-- charges a journey still open at its end the maximum fare from its entry station.
CREATE TABLE transit_closed_days (
  business_date date PRIMARY KEY,
  closed_at     timestamptz NOT NULL DEFAULT now()
);

-- Metro journeys of a card and day, as the fare engine rated them from the day's accepted taps.
-- Rewritten whole for a (card_no, business_date) whenever that card-day is closed or re-rated after
-- closing. journey_id is the one on the taps (the tap-in's, or the tap-out's when there was no
-- tap-in). status: open (still tapped in), complete (tapped out; also a same-station exit),
-- incomplete (no tap-out by the end of the day or before the next tap-in, or no tap-in).
CREATE TABLE journeys (
  journey_id       text PRIMARY KEY,
  card_no          text NOT NULL,
  business_date    date NOT NULL,
  entry_station_id text,
  entry_at         timestamptz,
  exit_station_id  text,
  exit_at          timestamptz,
  status           text NOT NULL CHECK (status IN ('open', 'complete', 'incomplete')),
  -- Fen this journey costs after concession, transfer discount and cap.
  fare             bigint NOT NULL DEFAULT 0 CHECK (fare >= 0),
  distance_m       integer,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journeys_day ON journeys (business_date, entry_station_id);
CREATE INDEX journeys_card ON journeys (card_no, business_date);

-- Down Migration
DROP TABLE journeys;
DROP TABLE transit_closed_days;
DROP TABLE fare_policies;

-- Up Migration
-- Social-security medical settlements (docs/medical.md): one row per claim, and the citizen's
-- year-to-date state per calendar year, which is the sum of the settled claims of that year.

CREATE TABLE medical_claims (
  claim_id        text PRIMARY KEY CHECK (claim_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
  card_no         text NOT NULL REFERENCES cards (card_no),
  citizen_id      bigint NOT NULL REFERENCES citizens (citizen_id),
  merchant_id     text NOT NULL REFERENCES merchants (merchant_id),
  terminal_id     text,
  business_date   date NOT NULL,
  -- The year whose year-to-date state the claim counts in: the year of its business date.
  year            int NOT NULL,
  status          text NOT NULL CHECK (status IN ('settled', 'cancelled')),
  -- [{code, amount, eligible}] as sent by the hospital (amounts in fen, as strings).
  items           jsonb NOT NULL,
  use_purse       boolean NOT NULL,
  total           bigint NOT NULL CHECK (total > 0),
  fund            bigint NOT NULL CHECK (fund >= 0),
  personal        bigint NOT NULL CHECK (personal >= 0),
  purse           bigint NOT NULL CHECK (purse >= 0),
  cash            bigint NOT NULL CHECK (cash >= 0),
  deductible_part bigint NOT NULL CHECK (deductible_part >= 0),
  request_hash    text NOT NULL,
  -- First ledger transfer of the settlement; NULL when nothing moved in the ledger (all cash).
  transfer_id     bigint,
  settled_at      timestamptz NOT NULL,
  cancelled_at    timestamptz,
  CHECK (fund + personal + purse + cash = total),
  CHECK (year = extract(year FROM business_date)),
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX medical_claims_citizen_year ON medical_claims (citizen_id, year);
CREATE INDEX medical_claims_day ON medical_claims (business_date);

-- Materialized sum of the settled claims per (citizen, year); a row exists once the citizen has
-- any claim that year. Kept in the same statement or transaction as the claim row it follows.
CREATE TABLE medical_ytd (
  citizen_id      bigint NOT NULL REFERENCES citizens (citizen_id),
  year            int NOT NULL,
  deductible_used bigint NOT NULL CHECK (deductible_used >= 0),
  fund_paid       bigint NOT NULL CHECK (fund_paid >= 0),
  PRIMARY KEY (citizen_id, year)
);

-- Finds a citizen's medical ledger commands whose claim row was not written (a lost write after
-- the ledger commit); only the first leg of the two medical command kinds is indexed.
CREATE INDEX transfers_medical_citizen ON transfers ((detail ->> 'citizenId'), transfer_id)
  WHERE op_kind IN ('medical-settle', 'medical-cancel') AND leg = 0;

-- Down Migration
DROP INDEX transfers_medical_citizen;
DROP TABLE medical_ytd;
DROP TABLE medical_claims;

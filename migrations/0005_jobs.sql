-- Up Migration
-- Nightly jobs (DESIGN §8): one row per run of a job for a business date, with its progress and
-- result; and what terminals report of their day (batch totals, transaction lists) for the
-- reconciliation job.

CREATE TABLE job_runs (
  job_id        text PRIMARY KEY,
  name          text NOT NULL,
  business_date date NOT NULL,
  rerun         boolean NOT NULL DEFAULT false,
  status        text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'active', 'retrying', 'completed', 'failed')),
  progress      smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  result        jsonb,
  error         text,
  attempts      integer NOT NULL DEFAULT 0,
  queued_at     timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);
CREATE INDEX job_runs_name_date ON job_runs (name, business_date, queued_at);

-- Batch totals as a terminal reports them: an ISO 8583 0500 reconciliation request per batch
-- (batch_no = the batch number), or a validator's daily totals (batch_no ''). Debit = the card was
-- charged (payment, fare, medical settlement); credit = the card was credited (refund, reversal,
-- top-up, medical cancel). Amounts in fen.
CREATE TABLE terminal_totals (
  terminal_id   text NOT NULL,
  business_date date NOT NULL,
  batch_no      text NOT NULL DEFAULT '',
  debit_count   integer NOT NULL DEFAULT 0 CHECK (debit_count >= 0),
  debit_amount  bigint NOT NULL DEFAULT 0 CHECK (debit_amount >= 0),
  credit_count  integer NOT NULL DEFAULT 0 CHECK (credit_count >= 0),
  credit_amount bigint NOT NULL DEFAULT 0 CHECK (credit_amount >= 0),
  source        text NOT NULL CHECK (source IN ('iso0500', 'validator')),
  received_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (terminal_id, business_date, batch_no)
);

-- The transactions a terminal says it made that day, so that reconciliation can name the missing,
-- extra and wrong-amount ones. reference = the ledger's op_id of the command (tapId, paymentId,
-- claimId, ISO key); amount in fen, signed: positive for a debit of the card, negative for a credit.
CREATE TABLE terminal_reported_txns (
  terminal_id   text NOT NULL,
  business_date date NOT NULL,
  reference     text NOT NULL,
  amount        bigint NOT NULL,
  PRIMARY KEY (terminal_id, business_date, reference)
);

-- Down Migration
DROP TABLE terminal_reported_txns;
DROP TABLE terminal_totals;
DROP TABLE job_runs;

-- Up Migration
-- Population registry (docs/registry.md): people identified by id document, their fields in three
-- tiers with the full history of every change, the departments that own and read them, the audit
-- log of every access; the card's registry-derived concession; the fare-policy sandbox jobs.

CREATE TABLE departments (
  department_id text PRIMARY KEY CHECK (department_id ~ '^[a-z][a-z0-9_]{1,31}$'),
  name          text NOT NULL,
  writes        text[] NOT NULL DEFAULT '{}',
  reads         text[] NOT NULL DEFAULT '{}',
  -- The API key is only ever stored as its SHA-256.
  api_key_hash  bytea NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE people (
  person_id        bigserial PRIMARY KEY,
  id_type          text NOT NULL CHECK (id_type IN ('id_card', 'passport')),
  -- HMAC (MASTER_KEY) for lookup, AES-GCM ciphertext, masked form for display.
  id_number_hmac   bytea NOT NULL,
  id_number_enc    bytea NOT NULL,
  id_number_masked text NOT NULL,
  -- The card holder this person is (cards belong to citizens).
  citizen_id       bigint UNIQUE REFERENCES citizens (citizen_id),
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id_type, id_number_hmac)
);

-- Current value of each field (JSON; encrypted fields as {"enc": base64}). Derived from the
-- history below, which is the record: every change appends there in the same transaction.
CREATE TABLE person_fields (
  person_id  bigint NOT NULL REFERENCES people (person_id),
  field      text NOT NULL,
  value      jsonb NOT NULL,
  change_id  bigint NOT NULL,
  PRIMARY KEY (person_id, field)
);
CREATE INDEX person_fields_by_field ON person_fields (field, person_id);

CREATE TABLE person_changes (
  change_id       bigserial PRIMARY KEY,
  person_id       bigint NOT NULL REFERENCES people (person_id),
  field           text NOT NULL,
  old_value       jsonb,
  new_value       jsonb NOT NULL,
  department_id   text NOT NULL,
  reason          text NOT NULL,
  source_document text,
  changed_at      timestamptz NOT NULL
);
CREATE INDEX person_changes_person ON person_changes (person_id, change_id);

CREATE TABLE registry_audit (
  audit_id      bigserial PRIMARY KEY,
  at            timestamptz NOT NULL,
  -- 'admin' for the admin token.
  department_id text NOT NULL,
  action        text NOT NULL CHECK (action IN ('create', 'read', 'lookup', 'write', 'changes', 'stats')),
  person_id     bigint,
  fields        text[] NOT NULL DEFAULT '{}',
  outcome       text NOT NULL CHECK (outcome IN ('ok', 'forbidden', 'not_found', 'invalid')),
  detail        text
);
CREATE INDEX registry_audit_person ON registry_audit (person_id, audit_id);
CREATE INDEX registry_audit_department ON registry_audit (department_id, audit_id);

CREATE FUNCTION registry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER person_changes_no_update BEFORE UPDATE OR DELETE ON person_changes
  FOR EACH ROW EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER registry_audit_no_update BEFORE UPDATE OR DELETE ON registry_audit
  FOR EACH ROW EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER person_changes_no_truncate BEFORE TRUNCATE ON person_changes
  FOR EACH STATEMENT EXECUTE FUNCTION registry_append_only();
CREATE TRIGGER registry_audit_no_truncate BEFORE TRUNCATE ON registry_audit
  FOR EACH STATEMENT EXECUTE FUNCTION registry_append_only();

-- The card type the registry gives a linked card (null: the issued card_type applies), and the
-- date from which it must be recomputed (the birthday that reaches the senior age).
ALTER TABLE cards ADD COLUMN registry_type text CHECK (registry_type IN ('adult', 'student', 'senior', 'disabled'));
ALTER TABLE cards ADD COLUMN registry_type_until date;
ALTER TABLE cards ADD COLUMN status_reason text;

CREATE TABLE fare_sandbox_jobs (
  job_id        uuid PRIMARY KEY,
  business_date date NOT NULL,
  policy        jsonb NOT NULL,
  state         text NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'failed')),
  progress      integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  result        jsonb,
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE fare_sandbox_jobs;
ALTER TABLE cards DROP COLUMN status_reason;
ALTER TABLE cards DROP COLUMN registry_type_until;
ALTER TABLE cards DROP COLUMN registry_type;
DROP TABLE registry_audit;
DROP TABLE person_changes;
DROP TABLE person_fields;
DROP TABLE people;
DROP TABLE departments;
DROP FUNCTION registry_append_only;

-- Up Migration
-- Terminal PKI (docs/security.md, "Terminal certificates and mutual TLS"): the terminal CA (one row,
-- its private key AES-256-GCM under MASTER_KEY, never in clear), the certificates it issued, and the
-- 'blocked' terminal status (a blocked terminal's certificates are revoked).

CREATE TABLE pki_ca (
  id          smallint PRIMARY KEY CHECK (id = 1),
  cert_pem    text NOT NULL,
  key_enc     bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE terminal_certificates (
  -- Hex, as in the certificate (positive, up to 20 bytes).
  serial       text PRIMARY KEY CHECK (serial ~ '^[0-9a-f]{2,40}$'),
  terminal_id  text NOT NULL REFERENCES terminals (terminal_id),
  not_before   timestamptz NOT NULL,
  not_after    timestamptz NOT NULL,
  cert_pem     text NOT NULL,
  issued_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX terminal_certificates_terminal ON terminal_certificates (terminal_id);
CREATE INDEX terminal_certificates_revoked ON terminal_certificates (revoked_at) WHERE revoked_at IS NOT NULL;

ALTER TABLE terminals DROP CONSTRAINT terminals_status_check;
ALTER TABLE terminals ADD CONSTRAINT terminals_status_check CHECK (status IN ('active', 'disabled', 'blocked'));

-- Down Migration
ALTER TABLE terminals DROP CONSTRAINT terminals_status_check;
UPDATE terminals SET status = 'disabled' WHERE status = 'blocked';
ALTER TABLE terminals ADD CONSTRAINT terminals_status_check CHECK (status IN ('active', 'disabled'));
DROP TABLE terminal_certificates;
DROP TABLE pki_ca;

// SQL of the terminal PKI: the CA row (key encrypted by the caller), issued certificates, and
// revocation together with the terminal's status change.
import type { Pool } from './db.js';

export interface CertificateRow {
  serial: string;
  terminalId: string;
  notBefore: Date;
  notAfter: Date;
  revokedAt: Date | null;
}

export class PkiStore {
  constructor(private readonly pool: Pool) {}

  /** Inserts the CA unless one exists (processes starting together race here), then returns the stored one. */
  async ensureCa(create: () => Promise<{ certPem: string; keyEnc: Buffer }>): Promise<{ certPem: string; keyEnc: Buffer }> {
    const existing = await this.ca();
    if (existing) return existing;
    const fresh = await create();
    await this.pool.query(`INSERT INTO pki_ca (id, cert_pem, key_enc) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, [fresh.certPem, fresh.keyEnc]);
    const stored = await this.ca();
    if (!stored) throw new Error('pki: the CA row vanished after insert');
    return stored;
  }

  private async ca(): Promise<{ certPem: string; keyEnc: Buffer } | null> {
    const r = await this.pool.query<{ cert_pem: string; key_enc: Buffer }>(`SELECT cert_pem, key_enc FROM pki_ca WHERE id = 1`);
    const row = r.rows[0];
    return row ? { certPem: row.cert_pem, keyEnc: row.key_enc } : null;
  }

  async insertCertificate(c: { serial: string; terminalId: string; notBefore: Date; notAfter: Date; certPem: string }): Promise<void> {
    await this.pool.query(`INSERT INTO terminal_certificates (serial, terminal_id, not_before, not_after, cert_pem) VALUES ($1, $2, $3, $4, $5)`, [
      c.serial,
      c.terminalId,
      c.notBefore,
      c.notAfter,
      c.certPem,
    ]);
  }

  async certificate(serial: string): Promise<CertificateRow | null> {
    const r = await this.pool.query(`SELECT serial, terminal_id, not_before, not_after, revoked_at FROM terminal_certificates WHERE serial = $1`, [serial]);
    const row = r.rows[0] as Record<string, unknown> | undefined;
    if (!row) return null;
    return {
      serial: row.serial as string,
      terminalId: row.terminal_id as string,
      notBefore: row.not_before as Date,
      notAfter: row.not_after as Date,
      revokedAt: (row.revoked_at as Date | null) ?? null,
    };
  }

  /** Sets the terminal's status; blocking also revokes its certificates at `at`. False: no such terminal. */
  async setTerminalStatus(terminalId: string, status: 'active' | 'blocked', at: Date): Promise<{ found: boolean; revoked: string[] }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const updated = await client.query(`UPDATE terminals SET status = $2 WHERE terminal_id = $1`, [terminalId, status]);
      let revoked: string[] = [];
      if (updated.rowCount && status === 'blocked') {
        const r = await client.query<{ serial: string }>(
          `UPDATE terminal_certificates SET revoked_at = $2 WHERE terminal_id = $1 AND revoked_at IS NULL RETURNING serial`,
          [terminalId, at],
        );
        revoked = r.rows.map((row) => row.serial);
      }
      await client.query('COMMIT');
      return { found: (updated.rowCount ?? 0) > 0, revoked };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Revoked certificates not yet expired (an expired one needs no listing), oldest first. */
  async revoked(now: Date): Promise<{ serial: string; revokedAt: Date }[]> {
    const r = await this.pool.query<{ serial: string; revoked_at: Date }>(
      `SELECT serial, revoked_at FROM terminal_certificates WHERE revoked_at IS NOT NULL AND not_after > $1 ORDER BY revoked_at, serial`,
      [now],
    );
    return r.rows.map((row) => ({ serial: row.serial, revokedAt: row.revoked_at }));
  }

  /** Changes when a certificate is revoked: the CRL cache's key. */
  async revocationMark(): Promise<string> {
    const r = await this.pool.query<{ n: string; at: Date | null }>(`SELECT count(*)::text AS n, max(revoked_at) AS at FROM terminal_certificates WHERE revoked_at IS NOT NULL`);
    const row = r.rows[0]!;
    return `${row.n}:${row.at?.toISOString() ?? ''}`;
  }
}

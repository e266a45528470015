// The citizen login guard in PostgreSQL (migration 0006): wrong-PIN counts and locks, shared by
// every API process so that the lock holds behind a load balancer.
import type { Pool } from './db.js';
import type { LoginGuard, LoginReservation } from '../../app/citizen.js';

export class PgLoginGuard implements LoginGuard {
  constructor(private readonly pool: Pool) {}

  async reserve(cardNo: string, now: Date): Promise<LoginReservation> {
    // Counted before the PIN is checked, in one statement, so that concurrent guesses cannot all
    // pass the check while the count is still low. An expired lock starts a fresh count; a live
    // lock is left as it is.
    const r = await this.pool.query<{ failures: number; locked_until: Date | null }>(
      `INSERT INTO citizen_login_guard AS g (card_no, failures, locked_until, updated_at) VALUES ($1, 1, NULL, $2)
       ON CONFLICT (card_no) DO UPDATE SET
         failures = CASE WHEN g.locked_until > $2 THEN g.failures
                         WHEN g.locked_until IS NOT NULL THEN 1
                         ELSE g.failures + 1 END,
         locked_until = CASE WHEN g.locked_until <= $2 THEN NULL ELSE g.locked_until END,
         updated_at = $2
       RETURNING failures, locked_until`,
      [cardNo, now],
    );
    const row = r.rows[0]!;
    return { attempt: row.failures, lockedUntil: row.locked_until };
  }

  async succeed(cardNo: string): Promise<void> {
    await this.pool.query(`DELETE FROM citizen_login_guard WHERE card_no = $1`, [cardNo]);
  }

  async lock(cardNo: string, until: Date, now: Date): Promise<void> {
    await this.pool.query(`UPDATE citizen_login_guard SET locked_until = $2, updated_at = $3 WHERE card_no = $1`, [cardNo, until, now]);
  }

  async state(cardNo: string): Promise<{ failures: number; lockedUntil: Date | null } | null> {
    const r = await this.pool.query<{ failures: number; locked_until: Date | null }>(`SELECT failures, locked_until FROM citizen_login_guard WHERE card_no = $1`, [cardNo]);
    const row = r.rows[0];
    return row ? { failures: row.failures, lockedUntil: row.locked_until } : null;
  }

  /** Forgets rows with no live lock that nobody touched since `before` (numbers tried once and left). */
  async prune(before: Date, now: Date): Promise<number> {
    const r = await this.pool.query(`DELETE FROM citizen_login_guard WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until <= $2)`, [before, now]);
    return r.rowCount ?? 0;
  }
}

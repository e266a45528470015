// PIN tries, PIN locks and per-terminal wrong-PIN blocks in PostgreSQL (migration 0010), shared by
// every API and ISO process; operators' unlocks are written to security_audit.
import type { Pool } from './db.js';
import type { PinGuard } from '../../app/pin.js';
import { pinLockMs, pinTriesMax, terminalPinCardsMax, terminalPinWindowMs } from '../../domain/payment-policy.js';

export class PgPinGuard implements PinGuard {
  constructor(private readonly pool: Pool) {}

  async reserve(cardNo: string, now: Date): Promise<number | null> {
    // One statement: the try is counted before the PIN is verified. An ended lock starts a fresh
    // count; the try that reaches the maximum sets the lock at once, so that a crash while it is
    // verified leaves a lock that ends, never a permanent one.
    const r = await this.pool.query<{ pin_failures: number }>(
      `UPDATE cards SET
         pin_failures = CASE WHEN pin_locked_until <= $2 THEN 1 ELSE pin_failures + 1 END,
         pin_locked_until = CASE WHEN (CASE WHEN pin_locked_until <= $2 THEN 1 ELSE pin_failures + 1 END) >= $3 THEN $4::timestamptz ELSE NULL END
       WHERE card_no = $1 AND (pin_failures < $3 OR pin_locked_until <= $2)
       RETURNING pin_failures`,
      [cardNo, now, pinTriesMax, new Date(now.getTime() + pinLockMs)],
    );
    return r.rows[0]?.pin_failures ?? null;
  }

  async locked(cardNo: string, now: Date): Promise<boolean> {
    const r = await this.pool.query(
      `SELECT 1 FROM cards WHERE card_no = $1 AND pin_failures >= $2 AND (pin_locked_until IS NULL OR pin_locked_until > $3)`,
      [cardNo, pinTriesMax, now],
    );
    return r.rowCount === 1;
  }

  async succeed(cardNo: string): Promise<void> {
    await this.pool.query(`UPDATE cards SET pin_failures = 0, pin_locked_until = NULL WHERE card_no = $1 AND pin_failures > 0`, [cardNo]);
  }

  async terminalFailed(terminalId: string, cardNo: string, now: Date): Promise<boolean> {
    const since = new Date(now.getTime() - terminalPinWindowMs);
    await this.pool.query(
      `INSERT INTO terminal_pin_failures (terminal_id, card_no, failed_at) VALUES ($1, $2, $3)
       ON CONFLICT (terminal_id, card_no) DO UPDATE SET failed_at = greatest(terminal_pin_failures.failed_at, excluded.failed_at)`,
      [terminalId, cardNo, now],
    );
    await this.pool.query(`DELETE FROM terminal_pin_failures WHERE terminal_id = $1 AND failed_at <= $2`, [terminalId, since]);
    const count = await this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM terminal_pin_failures WHERE terminal_id = $1 AND failed_at > $2`, [terminalId, since]);
    const cards = count.rows[0]!.n;
    if (cards <= terminalPinCardsMax) return false;
    await this.pool.query(`INSERT INTO terminal_pin_blocks (terminal_id, blocked_at, cards) VALUES ($1, $2, $3) ON CONFLICT (terminal_id) DO NOTHING`, [terminalId, now, cards]);
    return true;
  }

  async terminalBlocked(terminalId: string): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM terminal_pin_blocks WHERE terminal_id = $1`, [terminalId]);
    return r.rowCount === 1;
  }

  async unlockCard(cardNo: string, operator: string, now: Date): Promise<boolean> {
    const changed = await this.audited('pin-unlock', cardNo, operator, now, `UPDATE cards SET pin_failures = 0, pin_locked_until = NULL WHERE card_no = $1`, false);
    return changed !== null;
  }

  /** True when the terminal was blocked; the clear is audited either way. */
  async clearTerminal(terminalId: string, operator: string, now: Date): Promise<boolean> {
    const changed = await this.audited(
      'terminal-pin-clear',
      terminalId,
      operator,
      now,
      `WITH f AS (DELETE FROM terminal_pin_failures WHERE terminal_id = $1) DELETE FROM terminal_pin_blocks WHERE terminal_id = $1`,
      true,
    );
    return (changed ?? 0) > 0;
  }

  /** Runs an operator's change and its audit row in one transaction; null (nothing audited) when nothing matched and `auditAlways` is false. */
  private async audited(action: string, subject: string, operator: string, now: Date, sql: string, auditAlways: boolean): Promise<number | null> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const changed = (await client.query(sql, [subject])).rowCount ?? 0;
      if (changed === 0 && !auditAlways) {
        await client.query('ROLLBACK');
        return null;
      }
      await client.query(`INSERT INTO security_audit (action, subject, operator, at, detail) VALUES ($1, $2, $3, $4, $5)`, [action, subject, operator, now, { changed }]);
      await client.query('COMMIT');
      return changed;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

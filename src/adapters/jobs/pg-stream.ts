// Streaming reads for the nightly jobs: a server-side cursor in a read-only REPEATABLE READ
// transaction, fetched in pages, so a job sees one consistent snapshot and never holds a day of
// rows in memory.
import type { Pool, PoolClient } from '../postgres/db.js';

export const cursorPageRowsMax = 5000;

/** A read-only snapshot on one connection: stream several queries that all see the same data. */
export class Snapshot {
  private cursors = 0;

  private constructor(private readonly client: PoolClient) {}

  static async open(pool: Pool): Promise<Snapshot> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    } catch (error) {
      client.release(true);
      throw error;
    }
    return new Snapshot(client);
  }

  async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>(sql, params)).rows;
  }

  /** Rows of `sql`, fetched `pageRows` at a time through a cursor. */
  async *stream<R extends object>(sql: string, params: unknown[] = [], pageRows = cursorPageRowsMax): AsyncGenerator<R> {
    const name = `job_cursor_${++this.cursors}`;
    await this.client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params);
    try {
      while (true) {
        const page = await this.client.query<R>(`FETCH ${pageRows} FROM ${name}`);
        for (const row of page.rows) yield row;
        if (page.rows.length < pageRows) break;
      }
    } finally {
      await this.client.query(`CLOSE ${name}`).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.query('COMMIT');
      this.client.release();
    } catch {
      this.client.release(true);
    }
  }
}

/** Runs `work` on a snapshot and always ends it. */
export async function withSnapshot<T>(pool: Pool, work: (snapshot: Snapshot) => Promise<T>): Promise<T> {
  const snapshot = await Snapshot.open(pool);
  try {
    return await work(snapshot);
  } finally {
    await snapshot.close();
  }
}

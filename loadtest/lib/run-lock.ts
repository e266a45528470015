// One load run at a time on the machine: two runs would share the bench databases and Redis
// prefixes (and flush each other's cache) and each would measure the other's load. The lock is a
// PostgreSQL advisory lock in the cluster's `postgres` database, held by a session for the run.
import pg from 'pg';

export const runLockKey = [0x4c54, 0x52] as const; // 'LT', 'R'
export const runLockPollMs = 5_000;

export interface RunLock {
  release(): Promise<void>;
}

export async function acquireRunLock(databaseUrl: string, runId: string, waitMs: number, log: (line: string) => void): Promise<RunLock> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), application_name: `citizen-card loadtest ${runId}` });
  await client.connect();
  const deadline = Date.now() + waitMs;
  try {
    while (true) {
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [...runLockKey]);
      if (got.rows[0]!.ok) break;
      const holder = await client.query<{ app: string; since: string }>(
        `SELECT a.application_name AS app, to_char(a.backend_start, 'HH24:MI:SS') AS since
           FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.granted LIMIT 1`,
        [...runLockKey],
      );
      const who = holder.rows[0] ? `${holder.rows[0].app} (since ${holder.rows[0].since})` : 'another run';
      if (Date.now() > deadline) throw new Error(`another load run holds the lock: ${who}; try again later (or --lock-wait S)`);
      log(`waiting for ${who} to finish (one load run at a time)`);
      await new Promise((r) => setTimeout(r, runLockPollMs));
    }
  } catch (error) {
    await client.end();
    throw error;
  }
  return {
    async release() {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...runLockKey]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

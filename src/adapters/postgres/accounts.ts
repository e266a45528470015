// Account directory: (kind, owner) → account id, created on first use and cached in memory
// (accounts are never deleted, so a cached id never goes stale).
import type { Pool, PoolClient } from './db.js';

import type { AccountKind, AccountRef } from '../../app/ports.js';

export type { AccountKind, AccountRef } from '../../app/ports.js';

export const systemAccount = {
  medicalFund: { kind: 'medical_fund', ownerId: '' },
  fees: { kind: 'fees', ownerId: '' },
  suspense: { kind: 'suspense', ownerId: '' },
  settlement: { kind: 'settlement', ownerId: '' },
} as const satisfies Record<string, AccountRef>;

export const accountsCacheMax = 2_000_000;

export function accountKey(ref: AccountRef): string {
  return `${ref.kind}:${ref.ownerId}`;
}

export class AccountDirectory {
  private readonly ids = new Map<string, bigint>();

  constructor(private readonly pool: Pool) {}

  cached(ref: AccountRef): bigint | undefined {
    return this.ids.get(accountKey(ref));
  }

  /** Resolves every ref to its id, creating missing accounts in one statement. */
  async resolve(refs: AccountRef[], client?: PoolClient): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    const missing = new Map<string, AccountRef>();
    for (const ref of refs) {
      const key = accountKey(ref);
      const id = this.ids.get(key);
      if (id === undefined) missing.set(key, ref);
      else out.set(key, id);
    }
    if (missing.size > 0) {
      const kinds = [...missing.values()].map((r) => r.kind);
      const owners = [...missing.values()].map((r) => r.ownerId);
      const db = client ?? this.pool;
      const result = await db.query<{ account_id: bigint; kind: AccountKind; owner_id: string }>(
        `WITH wanted AS (SELECT * FROM unnest($1::text[], $2::text[]) AS w(kind, owner_id)),
              made AS (INSERT INTO accounts (kind, owner_id) SELECT kind, owner_id FROM wanted
                       ON CONFLICT (kind, owner_id) DO NOTHING RETURNING account_id, kind, owner_id)
         SELECT account_id, kind, owner_id FROM made
         UNION ALL
         SELECT a.account_id, a.kind, a.owner_id FROM accounts a JOIN wanted w USING (kind, owner_id)`,
        [kinds, owners],
      );
      if (this.ids.size > accountsCacheMax) this.ids.clear();
      for (const row of result.rows) {
        const key = accountKey({ kind: row.kind, ownerId: row.owner_id });
        this.ids.set(key, row.account_id);
        out.set(key, row.account_id);
      }
    }
    return out;
  }
}

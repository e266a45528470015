// The reader's copy of the per-card offline risk budgets (GET /v1/offline-budgets): how many rides
// a card may take here while the link is down. Kept on disk with what was used since, so that a
// restart does not hand out a budget twice. Before the first budget arrives (version 0) the reader
// accepts offline as it always did; after it, a card with no budget gets no offline ride.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReaderClient } from './client.js';

export const budgetPagesMax = 100;

export class BudgetCache {
  private version = 0;
  private readonly rides = new Map<string, number>();
  private readonly used = new Map<string, number>();

  private constructor(private readonly file: string) {}

  static async open(file: string): Promise<BudgetCache> {
    const b = new BudgetCache(file);
    try {
      const saved = JSON.parse(await readFile(file, 'utf8')) as { version: number; rides: [string, number][]; used: [string, number][] };
      b.version = saved.version;
      for (const [cardNo, n] of saved.rides) b.rides.set(cardNo, n);
      for (const [cardNo, n] of saved.used) b.used.set(cardNo, n);
    } catch {
      // none yet
    }
    return b;
  }

  get currentVersion(): number {
    return this.version;
  }

  /** Takes one offline ride of the card's budget; false when it has none left. */
  async take(cardNo: string): Promise<boolean> {
    if (this.version === 0) return true;
    const used = this.used.get(cardNo) ?? 0;
    if (used >= (this.rides.get(cardNo) ?? 0)) return false;
    this.used.set(cardNo, used + 1);
    await this.save();
    return true;
  }

  /** Applies the deltas since the held version; a card's new budget starts unused. */
  async refresh(client: ReaderClient): Promise<{ version: number; changes: number }> {
    let changes = 0;
    for (let page = 0; page < budgetPagesMax; page++) {
      const answer = await client.getBudgets(this.version);
      if (answer.status === 404) return { version: this.version, changes }; // a server without budgets
      if (answer.status !== 200) throw new Error(`offline budgets answered HTTP ${answer.status}`);
      const body = answer.body as { version: number; changes: { cardNo: string; rides: number }[]; more: boolean };
      for (const c of body.changes) {
        this.rides.set(c.cardNo, c.rides);
        this.used.delete(c.cardNo);
      }
      changes += body.changes.length;
      this.version = body.version;
      if (!body.more) break;
    }
    if (changes > 0) await this.save();
    return { version: this.version, changes };
  }

  private async save(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFile(`${this.file}.tmp`, JSON.stringify({ version: this.version, rides: [...this.rides.entries()], used: [...this.used.entries()] }));
    await rename(`${this.file}.tmp`, this.file);
  }
}

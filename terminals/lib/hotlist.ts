// The reader's copy of the hotlist (lost, blocked and indebted cards), kept on disk so that a reader
// that starts without a link still refuses listed cards. Refreshed by version deltas.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReaderClient } from './client.js';

/** Pages of one refresh (each page is up to the server's hotlistPageMax changes). */
export const hotlistPagesMax = 100;

export class HotlistCache {
  private version = 0;
  private readonly listed = new Map<string, string>();

  private constructor(private readonly file: string) {}

  static async open(file: string): Promise<HotlistCache> {
    const h = new HotlistCache(file);
    try {
      const saved = JSON.parse(await readFile(file, 'utf8')) as { version: number; listed: [string, string][] };
      h.version = saved.version;
      for (const [cardNo, reason] of saved.listed) h.listed.set(cardNo, reason);
    } catch {
      // none yet: everything is accepted offline until the first refresh
    }
    return h;
  }

  get currentVersion(): number {
    return this.version;
  }

  get size(): number {
    return this.listed.size;
  }

  reasonFor(cardNo: string): string | undefined {
    return this.listed.get(cardNo);
  }

  /** Applies the deltas since the held version; throws OfflineError when the link is down. */
  async refresh(client: ReaderClient): Promise<{ version: number; changes: number }> {
    let changes = 0;
    for (let page = 0; page < hotlistPagesMax; page++) {
      const answer = await client.getHotlist(this.version);
      if (answer.status !== 200) throw new Error(`hotlist answered HTTP ${answer.status}`);
      const body = answer.body as { version: number; changes: { cardNo: string; listed: boolean; reason: string }[]; more: boolean };
      for (const c of body.changes) {
        if (c.listed) this.listed.set(c.cardNo, c.reason);
        else this.listed.delete(c.cardNo);
      }
      changes += body.changes.length;
      this.version = body.version;
      if (!body.more) break;
    }
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFile(`${this.file}.tmp`, JSON.stringify({ version: this.version, listed: [...this.listed.entries()] }));
    await rename(`${this.file}.tmp`, this.file);
    return { version: this.version, changes };
  }
}

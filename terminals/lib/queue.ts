// The reader's offline queue: taps accepted while the link is down, kept on disk until the server
// has answered them. Append-only JSONL, fsynced before the rider is let through; uploaded taps are
// removed by writing the rest to a temporary file, fsyncing it and renaming it over the queue.
// A crash leaves at worst a torn last line (skipped on load) or taps that were already uploaded
// (uploaded again: the server answers them as duplicates by tapId, so each is charged once).
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface QueuedTap {
  tapId: string;
  cardNo: string;
  tappedAt: string;
  direction?: 'in' | 'out';
  amount?: number;
}

/** A reader holds at most this many offline taps; past it, cards are refused until it uploads. */
export const offlineQueueMax = 50_000;

export class OfflineQueue {
  private entries: QueuedTap[] = [];
  private handle: FileHandle | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<OfflineQueue> {
    const q = new OfflineQueue(file);
    await mkdir(path.dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const seen = new Set<string>();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const tap = JSON.parse(line) as QueuedTap;
        if (typeof tap.tapId === 'string' && !seen.has(tap.tapId)) {
          seen.add(tap.tapId);
          q.entries.push(tap);
        }
      } catch {
        // a line torn by a crash mid-write: that tap was never confirmed to the rider
      }
    }
    await q.rewrite();
    return q;
  }

  get size(): number {
    return this.entries.length;
  }

  peek(count: number): QueuedTap[] {
    return this.entries.slice(0, count);
  }

  /** Durable once this resolves (written and fsynced). */
  push(tap: QueuedTap): Promise<void> {
    return this.serial(async () => {
      if (this.entries.length >= offlineQueueMax) throw new Error(`offline queue is full (${offlineQueueMax} taps, offlineQueueMax)`);
      await this.handle!.write(`${JSON.stringify(tap)}\n`);
      await this.handle!.datasync();
      this.entries.push(tap);
    });
  }

  remove(tapIds: ReadonlySet<string>): Promise<void> {
    return this.serial(async () => {
      this.entries = this.entries.filter((t) => !tapIds.has(t.tapId));
      await this.rewrite();
    });
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      await this.handle?.close();
      this.handle = null;
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async rewrite(): Promise<void> {
    await this.handle?.close();
    const tmp = `${this.file}.tmp`;
    const out = await open(tmp, 'w');
    try {
      await out.write(this.entries.map((t) => `${JSON.stringify(t)}\n`).join(''));
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.file);
    const dir = await open(path.dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.handle = await open(this.file, 'a');
  }
}

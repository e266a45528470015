// A transit reader (bus validator, metro gate, taxi meter): taps go to POST /v1/taps while the link
// is up; when it is down the reader checks its hotlist copy, queues the tap on disk (fsynced) and
// lets the rider through; queued taps are uploaded by POST /v1/taps/batch when the link is back.
// Every tap has its own tapId, so an upload repeated after a crash charges nothing twice.
// Events are JSON lines on stdout (card numbers masked).
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { maskCardNo } from '../../src/domain/card-number.js';
import { codeMeaning } from '../../src/domain/codes.js';
import { OfflineError, ReaderClient } from './client.js';
import { HotlistCache } from './hotlist.js';
import { BudgetCache } from './budget.js';
import { OfflineQueue, type QueuedTap } from './queue.js';
import { parseCommand, shanghaiToday, type Command } from './script.js';
import { readerConfig, type ReaderConfig } from './config.js';
import { enroll, loadIdentity } from './enroll.js';

export type ReaderKind = 'bus' | 'gate' | 'taxi';

/** Taps per upload: the server's tapsPerUploadMax. */
export const uploadTapsMax = 1000;
/** Answers after which a queued tap is kept for the next upload (the server may succeed later). */
const transientCodes = new Set(['91', '96']);

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...event, at: new Date().toISOString() })}\n`);
}

export class Reader {
  private online = true;
  private forcedOffline = false;
  private uploading: Promise<void> | null = null;
  private timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly kind: ReaderKind,
    private readonly cfg: ReaderConfig,
    private readonly client: ReaderClient,
    private readonly queue: OfflineQueue,
    private readonly hotlist: HotlistCache,
    private readonly budget: BudgetCache,
  ) {}

  static async start(kind: ReaderKind, cfg: ReaderConfig): Promise<Reader> {
    // Enrolled (a certificate in the state dir): mutual TLS, the certificate is the terminal.
    const identity = await loadIdentity(cfg.stateDir, cfg.terminalId);
    if (!identity && !cfg.apiKey) throw new Error(`terminal ${cfg.terminalId}: no API key (--key, or --terminals-file from npm start) and not enrolled (run: enroll)`);
    const server = identity ? cfg.tlsServer : cfg.server;
    const client = new ReaderClient(server, cfg.apiKey, undefined, identity);
    const reader = new Reader(kind, cfg, client, await OfflineQueue.open(cfg.queueFile), await HotlistCache.open(cfg.hotlistFile), await BudgetCache.open(cfg.budgetFile));
    emit({ event: 'start', terminalId: cfg.terminalId, kind, server, tls: identity !== null, queued: reader.queue.size, hotlistVersion: reader.hotlist.currentVersion });
    reader.timers.push(setInterval(() => void reader.tick(), cfg.retryMs));
    reader.timers.push(setInterval(() => void reader.refreshHotlist(), cfg.hotlistMs));
    if (reader.queue.size > 0) await reader.upload();
    else await reader.refreshHotlist();
    return reader;
  }

  /** Runs one command line; true when the reader should stop. */
  async command(line: string): Promise<boolean> {
    const cmd = parseCommand(line);
    if (cmd === null) return false;
    if ('error' in cmd) {
      emit({ event: 'error', line: line.slice(0, 80), error: cmd.error });
      return false;
    }
    return this.run(cmd);
  }

  private async run(cmd: Command): Promise<boolean> {
    switch (cmd.op) {
      case 'tap':
        await this.tap(cmd);
        return false;
      case 'offline':
        this.forcedOffline = true;
        this.setOnline(false);
        return false;
      case 'online':
        this.forcedOffline = false;
        await this.upload();
        return false;
      case 'sync':
        await this.upload();
        return false;
      case 'sleep':
        await new Promise((resolve) => setTimeout(resolve, cmd.ms));
        return false;
      case 'quit':
        return true;
    }
  }

  private async tap(cmd: Extract<Command, { op: 'tap' }>): Promise<void> {
    const problem =
      this.kind === 'gate' && !cmd.direction ? 'a gate taps "in" or "out"' : this.kind !== 'gate' && cmd.direction ? `a ${this.kind} reader taps with "tap"` : this.kind === 'taxi' && !cmd.amount ? 'a taxi tap needs the meter amount' : null;
    if (problem) {
      emit({ event: 'error', error: problem });
      return;
    }
    const tap: QueuedTap = {
      tapId: `${this.cfg.terminalId}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      cardNo: cmd.cardNo,
      tappedAt: cmd.time ? `${this.cfg.date ?? shanghaiToday()}T${cmd.time}+08:00` : new Date().toISOString(),
      ...(cmd.direction ? { direction: cmd.direction } : {}),
      ...(cmd.amount ? { amount: cmd.amount } : {}),
    };
    const card = maskCardNo(cmd.cardNo);
    if (this.online && !this.forcedOffline) {
      try {
        const answer = await this.client.postTap({ ...tap });
        const b = answer.body;
        if (answer.status === 200) emit({ event: 'tap', mode: 'online', tapId: tap.tapId, card, approved: b.approved, code: b.code, fare: b.fare, balance: b.balance, journeyId: b.journeyId });
        else emit({ event: 'tap', mode: 'online', tapId: tap.tapId, card, approved: false, status: answer.status, code: b.code, detail: b.detail });
        return;
      } catch (error) {
        if (!(error instanceof OfflineError)) throw error;
        this.setOnline(false);
      }
    }
    const listed = this.hotlist.reasonFor(cmd.cardNo);
    if (listed) {
      emit({ event: 'tap', mode: 'offline', tapId: tap.tapId, card, approved: false, code: 'hotlist', reason: listed });
      return;
    }
    // The card's offline risk budget at this reader (GET /v1/offline-budgets): beyond it, no ride.
    if (!(await this.budget.take(cmd.cardNo))) {
      emit({ event: 'tap', mode: 'offline', tapId: tap.tapId, card, approved: false, code: 'budget', reason: 'offline budget used up' });
      return;
    }
    try {
      await this.queue.push(tap);
    } catch (error) {
      emit({ event: 'tap', mode: 'offline', tapId: tap.tapId, card, approved: false, code: 'queue-full', reason: (error as Error).message });
      return;
    }
    emit({ event: 'tap', mode: 'offline', tapId: tap.tapId, card, approved: true, queued: this.queue.size });
  }

  /** Uploads the queue in batches until it is empty or the link drops. One upload at a time. */
  upload(): Promise<void> {
    if (this.forcedOffline) return Promise.resolve();
    this.uploading ??= this.uploadAll().finally(() => {
      this.uploading = null;
    });
    return this.uploading;
  }

  private async uploadAll(): Promise<void> {
    while (this.queue.size > 0) {
      const batch = this.queue.peek(uploadTapsMax);
      let answer;
      try {
        answer = await this.client.postBatch(
          batch.map((t) => ({ ...t })),
          this.hotlist.currentVersion,
        );
      } catch (error) {
        if (!(error instanceof OfflineError)) throw error;
        this.setOnline(false);
        return;
      }
      if (answer.status !== 200) {
        emit({ event: 'upload-error', status: answer.status, code: answer.body.code, detail: answer.body.detail });
        return;
      }
      const results = answer.body.results as { tapId: string | null; status: string; code: string; fare?: number; reason?: string }[];
      const done = new Set<string>();
      const counts: Record<string, number> = { accepted: 0, duplicate: 0, rejected: 0 };
      results.forEach((r, i) => {
        counts[r.status] = (counts[r.status] ?? 0) + 1;
        // One line per tap: what the back office decided about it and why (the fare, or the reason of a rejection).
        emit({ event: 'uploaded-tap', tapId: batch[i]!.tapId, status: r.status, code: r.code, meaning: (codeMeaning as Record<string, string>)[r.code] ?? 'unknown', fare: r.fare ?? 0, ...(r.reason ? { reason: r.reason } : {}) });
        if (!(r.status === 'rejected' && transientCodes.has(r.code))) done.add(batch[i]!.tapId);
      });
      await this.queue.remove(done);
      emit({ event: 'upload', sent: batch.length, ...counts, left: this.queue.size });
      if (done.size === 0) return; // only transient failures: try again on the next tick
    }
    this.setOnline(true);
  }

  private async tick(): Promise<void> {
    if (this.forcedOffline) return;
    if (this.queue.size > 0) await this.upload().catch((error: unknown) => emit({ event: 'error', error: (error as Error).message }));
    else if (!this.online) await this.refreshHotlist();
  }

  private async refreshHotlist(): Promise<void> {
    if (this.forcedOffline) return;
    try {
      const r = await this.hotlist.refresh(this.client);
      this.setOnline(true);
      if (r.changes > 0) emit({ event: 'hotlist', version: r.version, changes: r.changes, listed: this.hotlist.size });
      const b = await this.budget.refresh(this.client);
      if (b.changes > 0) emit({ event: 'budgets', version: b.version, changes: b.changes });
    } catch (error) {
      if (error instanceof OfflineError) this.setOnline(false);
      else emit({ event: 'error', error: (error as Error).message });
    }
  }

  private setOnline(up: boolean): void {
    if (up === this.online) return;
    this.online = up;
    emit({ event: up ? 'online' : 'offline', queued: this.queue.size });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (this.queue.size > 0) await this.upload();
    await this.uploading;
    await this.queue.close();
    this.client.close();
    emit({ event: 'stop', queued: this.queue.size });
  }
}

/** The program: flags, then commands from --replay or stdin until EOF or `quit`. */
export async function runReader(kind: ReaderKind, argv: string[], defaultTerminal: string): Promise<void> {
  const enrolling = argv[0] === 'enroll';
  let cfg: ReaderConfig;
  try {
    cfg = readerConfig(enrolling ? argv.slice(1) : argv, defaultTerminal);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  if (enrolling) {
    try {
      const done = await enroll({ terminalId: cfg.terminalId, server: cfg.server, adminToken: cfg.adminToken, stateDir: cfg.stateDir });
      emit({ event: 'enrolled', terminalId: cfg.terminalId, serialNumber: done.serialNumber, notAfter: done.notAfter, certificate: done.files.cert });
      process.exit(0);
    } catch (error) {
      emit({ event: 'error', error: (error as Error).message });
      process.exit(1);
    }
  }
  let reader: Reader;
  try {
    reader = await Reader.start(kind, cfg);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const lines = createInterface({ input: cfg.replay ? createReadStream(cfg.replay) : process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (await reader.command(line)) break;
  }
  lines.close();
  await reader.stop();
  process.exit(0);
}

// The primary process of `npm start` with WEB_CONCURRENCY > 1 (node:cluster): forks the worker
// processes that share the HTTP and ISO ports, plus — for ROLE=all — one jobs process, restarts any
// that dies, and on SIGTERM/SIGINT lets each drain (stop accepting, finish in-flight commands and
// ledger batches) before it exits. It holds no connection to PostgreSQL or Redis itself.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './platform/config.js';
import type { Logger } from './platform/logger.js';
import type { Clock } from './platform/clock.js';
import { whereToGo } from './wiring/where-to-go.js';

/** A worker that dies sooner than this after its start is restarted only after `restartPauseMs`. */
export const restartQuickDeathMs = 5_000;
export const restartPauseMs = 1_000;
/** How long the primary waits for its workers to drain on a stop before it kills them. */
export const drainWaitMsMax = 15_000;

interface Slot {
  name: string;
  env: Record<string, string>;
  worker: Worker | null;
  startedAt: number;
}

export async function runSupervisor(config: Config, log: Logger, clock: Clock): Promise<void> {
  let stopping = false;
  const slots: Slot[] = [];
  const webRole = config.role === 'all' ? 'web' : config.role;
  // The first process loads the demo data (SEED) and, for ROLE=all, runs the jobs; the others wait for it.
  if (config.role === 'all') slots.push({ name: 'jobs', env: { ROLE: 'worker', HTTP_PORT: '0' }, worker: null, startedAt: 0 });
  for (let i = 0; i < config.webConcurrency; i++) {
    slots.push({ name: `web-${i}`, env: { ROLE: webRole, ...(slots.length > 0 ? { SEED: '0' } : {}) }, worker: null, startedAt: 0 });
  }

  const fork = (slot: Slot): Promise<void> =>
    new Promise((resolve) => {
      slot.startedAt = clock.now().getTime();
      const worker = cluster.fork({ ...slot.env, WORKER_NAME: slot.name });
      slot.worker = worker;
      worker.on('message', (message: unknown) => {
        if ((message as { type?: string } | null)?.type === 'ready') resolve();
      });
      worker.once('exit', (code, signal) => {
        slot.worker = null;
        resolve();
        if (stopping) return;
        const quick = clock.now().getTime() - slot.startedAt < restartQuickDeathMs;
        log.error({ worker: slot.name, code, signal }, 'worker died: restarting it');
        setTimeout(() => void fork(slot), quick ? restartPauseMs : 0);
      });
    });

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: draining every worker');
    const alive = slots.map((s) => s.worker).filter((w): w is Worker => w !== null && !w.isDead());
    const exited = Promise.all(alive.map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r())))));
    for (const w of alive) w.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const w of alive) if (!w.isDead()) w.process.kill('SIGKILL');
    }, drainWaitMsMax);
    timer.unref();
    await exited;
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  await fork(slots[0]!);
  await Promise.all(slots.slice(1).map(fork));
  log.info({ workers: slots.map((s) => ({ name: s.name, pid: s.worker?.process.pid })) }, 'all workers started');
  log.info({ role: config.role, workers: config.webConcurrency, ...whereToGo(config, config.httpPort, config.isoPort) }, 'ready');
}

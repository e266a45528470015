// Process entry: configuration, then either the supervisor of several worker processes
// (WEB_CONCURRENCY > 1, src/supervisor.ts) or one server: the system, HTTP (and the other roles'
// servers), graceful stop.
import cluster from 'node:cluster';
import { loadConfig, ConfigError, type Config } from './platform/config.js';
import { createLogger } from './platform/logger.js';
import { systemClock } from './platform/clock.js';
import { buildSystem } from './system.js';
import { runSupervisor } from './supervisor.js';
import { whereToGo } from './wiring/where-to-go.js';

/** A graceful stop that takes longer than this is cut short (the pending marks are then recovered). */
export const stopWaitMsMax = 10_000;

async function serve(config: Config): Promise<void> {
  const system = await buildSystem(config);
  const { log } = system;
  // Listen first so that /health/ready can say "recovery running"; money calls wait for ready.
  await system.http.listen({ port: config.httpPort, host: config.httpHost });
  log.info({ port: config.httpPort, worker: process.env.WORKER_NAME }, 'HTTP listening');
  await system.start();
  if (cluster.isWorker) {
    // Under the supervisor: it tells the user where to go once every worker is ready.
    log.info({ role: config.role, owner: system.keys.owner, worker: process.env.WORKER_NAME }, 'worker ready');
    process.send?.({ type: 'ready' });
  } else {
    log.info({ role: config.role, owner: system.keys.owner, ...whereToGo(config, config.httpPort, system.iso.port || config.isoPort) }, 'ready');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Stop accepting (HTTP and ISO), finish the requests in flight, drain the ledger writer, then exit.
    log.info({ signal }, 'stopping: draining the ledger writer');
    const timer = setTimeout(() => process.exit(1), stopWaitMsMax);
    timer.unref();
    await system.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const supervised = cluster.isPrimary && config.webConcurrency > 1 && config.role !== 'worker';
  if (supervised) await runSupervisor(config, createLogger(config.logLevel), systemClock);
  else await serve(config);
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

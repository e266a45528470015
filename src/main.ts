// Process entry: configuration, the system, HTTP (and the other roles' servers), graceful stop.
import { loadConfig, ConfigError } from './platform/config.js';
import { buildSystem } from './system.js';
import { whereToGo } from './wiring/where-to-go.js';

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
  const system = await buildSystem(config);
  const { log } = system;
  // Listen first so that /health/ready can say "recovery running"; money calls wait for ready.
  await system.http.listen({ port: config.httpPort, host: config.httpHost });
  log.info({ port: config.httpPort }, 'HTTP listening');
  await system.start();
  log.info({ role: config.role, ...whereToGo(config, config.httpPort, system.iso?.port || config.isoPort) }, 'ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: draining the ledger writer');
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await system.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

// What `npm start` tells a new user once the server is ready: the pages to open and where the
// demo terminals' keys are: fields of the `ready` log line (pretty on a terminal, JSON for a pipe).
import path from 'node:path';
import type { Config } from '../platform/config.js';

export const demoTerminalsFile = 'var/demo-terminals.json';

export interface WhereToGo {
  docs: string;
  console: string;
  kiosk: string;
  jobs: string;
  metrics: string;
  iso: string;
  demoTerminals: string | null;
}

export function whereToGo(config: Config, httpPort: number, isoPort: number): WhereToGo {
  // 0.0.0.0 and :: listen everywhere; a browser on this machine opens 127.0.0.1.
  const host = ['0.0.0.0', '::', ''].includes(config.httpHost) ? '127.0.0.1' : config.httpHost;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
  return {
    docs: `${base}/docs`,
    console: `${base}/console`,
    kiosk: `${base}/kiosk`,
    jobs: `${base}/admin/queues?token=<ADMIN_TOKEN>`,
    metrics: `${base}/metrics`,
    iso: `tcp://${host}:${isoPort}`,
    demoTerminals: config.seed ? path.resolve(demoTerminalsFile) : null,
  };
}

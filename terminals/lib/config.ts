// A reader program's settings from its flags: which terminal it is (its key from the flags or from
// var/demo-terminals.json, written by `npm start`'s demo seed), which server, where its files live.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ReaderConfig {
  terminalId: string;
  /** Null when unknown: the reader must then be enrolled (it speaks mTLS with its certificate). */
  apiKey: string | null;
  server: string;
  /** Where an enrolled reader calls (mutual TLS). */
  tlsServer: string;
  /** For `enroll` only: the back office's admin token. */
  adminToken: string;
  stateDir: string;
  queueFile: string;
  hotlistFile: string;
  budgetFile: string;
  replay: string | null;
  date: string | null;
  retryMs: number;
  hotlistMs: number;
}

export const usageText = `commands: (none) run the reader; enroll: make a key, get a certificate, keep it in --state-dir
flags:
  --terminal <id>          terminal id (its key is read from --terminals-file unless --key is given)
  --key <apiKey>           the terminal's API key
  --terminals-file <file>  default var/demo-terminals.json (written by npm start)
  --server <url>           default http://127.0.0.1:$HTTP_PORT (8080)
  --tls-server <url>       used once enrolled, default https://127.0.0.1:$HTTPS_PORT (8443)
  --admin-token <token>    for enroll, default $ADMIN_TOKEN or dev-admin-token
  --state-dir <dir>        offline queue, hotlist, key and certificate files, default var/terminals
  --replay <script>        run a scripted day from a file instead of stdin
  --date YYYY-MM-DD        the day of timed script lines (default: today in Shanghai)
  --retry-ms <ms>          how often an offline reader tries to upload (default 1000)
  --hotlist-ms <ms>        how often an online reader refreshes its hotlist (default 30000)`;

export function readerConfig(argv: string[], defaultTerminal: string): ReaderConfig {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') throw new Error(usageText);
    if (!a.startsWith('--') || argv[i + 1] === undefined) throw new Error(`unexpected argument ${a}\n${usageText}`);
    flags[a.slice(2)] = argv[++i]!;
  }
  const terminalId = flags.terminal ?? defaultTerminal;
  let apiKey = flags.key;
  if (!apiKey) {
    const file = flags['terminals-file'] ?? 'var/demo-terminals.json';
    let known: { terminalId: string; apiKey: string }[];
    try {
      known = JSON.parse(readFileSync(file, 'utf8')) as { terminalId: string; apiKey: string }[];
    } catch {
      known = []; // an enrolled reader needs no key; Reader.start says what is missing
    }
    apiKey = known.find((t) => t.terminalId === terminalId)?.apiKey;
  }
  const stateDir = flags['state-dir'] ?? 'var/terminals';
  const positive = (name: string, fallback: number): number => {
    const v = flags[name] === undefined ? fallback : Number(flags[name]);
    if (!Number.isInteger(v) || v < 10) throw new Error(`--${name} must be a whole number of ms ≥ 10`);
    return v;
  };
  if (flags.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(flags.date)) throw new Error('--date must be YYYY-MM-DD');
  return {
    terminalId,
    apiKey: apiKey ?? null,
    server: (flags.server ?? `http://127.0.0.1:${process.env.HTTP_PORT ?? '8080'}`).replace(/\/$/, ''),
    tlsServer: (flags['tls-server'] ?? `https://127.0.0.1:${process.env.HTTPS_PORT ?? '8443'}`).replace(/\/$/, ''),
    adminToken: flags['admin-token'] ?? process.env.ADMIN_TOKEN ?? 'dev-admin-token',
    stateDir,
    queueFile: path.join(stateDir, `${terminalId}.queue.jsonl`),
    hotlistFile: path.join(stateDir, `${terminalId}.hotlist.json`),
    budgetFile: path.join(stateDir, `${terminalId}.budget.json`),
    replay: flags.replay ?? null,
    date: flags.date ?? null,
    retryMs: positive('retry-ms', 1000),
    hotlistMs: positive('hotlist-ms', 30_000),
  };
}

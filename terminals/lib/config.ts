// A reader program's settings from its flags: which terminal it is (its key from the flags or from
// var/demo-terminals.json, written by `npm start`'s demo seed), which server, where its files live.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ReaderConfig {
  terminalId: string;
  apiKey: string;
  server: string;
  queueFile: string;
  hotlistFile: string;
  budgetFile: string;
  replay: string | null;
  date: string | null;
  retryMs: number;
  hotlistMs: number;
}

export const usageText = `flags:
  --terminal <id>          terminal id (its key is read from --terminals-file unless --key is given)
  --key <apiKey>           the terminal's API key
  --terminals-file <file>  default var/demo-terminals.json (written by npm start)
  --server <url>           default http://127.0.0.1:$HTTP_PORT (8080)
  --state-dir <dir>        offline queue and hotlist files, default var/terminals
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
    } catch (error) {
      throw new Error(`cannot read ${file} (${(error as Error).message}): run npm start once, or pass --key`, { cause: error });
    }
    apiKey = known.find((t) => t.terminalId === terminalId)?.apiKey;
    if (!apiKey) throw new Error(`terminal ${terminalId} is not in ${file}; pass --key`);
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
    apiKey,
    server: (flags.server ?? `http://127.0.0.1:${process.env.HTTP_PORT ?? '8080'}`).replace(/\/$/, ''),
    queueFile: path.join(stateDir, `${terminalId}.queue.jsonl`),
    hotlistFile: path.join(stateDir, `${terminalId}.hotlist.json`),
    budgetFile: path.join(stateDir, `${terminalId}.budget.json`),
    replay: flags.replay ?? null,
    date: flags.date ?? null,
    retryMs: positive('retry-ms', 1000),
    hotlistMs: positive('hotlist-ms', 30_000),
  };
}

// Command line of the load runner (see loadtest/README.md).
import { defaultLadder } from './search.js';

export const phaseNames = ['core', 'naive', 'sweep', 'cards', 'profile', 'writer'] as const;
export type Phase = (typeof phaseNames)[number];

export interface RunnerArgs {
  quick: boolean;
  phases: Phase[];
  scenario: string;
  url: string | null;
  cards: number;
  largeCards: number;
  firstSerial: bigint;
  database: string;
  largeDatabase: string;
  ladder: number[];
  stepMs: number;
  connections: number;
  batchSizes: number[];
  /** Extra sweep rows: LEDGER_BATCH_WAIT_MS values tried with the largest batch size. */
  batchWaits: number[];
  batchWaitMs: string | null;
  rate: number | null;
  cold: boolean;
  retry: boolean;
  waitQuietS: number;
  p99MaxMs: number;
  vacuum: boolean;
  lockWaitS: number;
  outDir: string;
}

export const usage = `usage: npm run loadtest -- [options]
  --quick                 short steps (3 s), coarse ladder, one bisection step (about 5 minutes)
  --phases a,b            of core,naive,sweep,cards,profile,writer (default core,naive,sweep,cards)
                          profile: CPU profile of the core at --rate; writer: the ledger writer alone,
                          as is and with two rewrites of its SQL traffic (see lib/writer-bench.ts)
  --scenario NAME         payments (default)
  --url URL               target a running server (http://127.0.0.1:PORT) instead of starting one;
                          its cards must be seeded: --cards N [--first-serial S] (the demo seed: --cards 1000)
  --cards N               cards in the main bench database (default 100000)
  --large-cards N         cards in the large database of phase cards (default 1000000)
  --database NAME         main bench database (default citizencard_bench)
  --large-database NAME   (default citizencard_bench_1m)
  --ladder r1,r2,…        arrival rates to climb (requests/s)
  --step-ms MS            duration of each measured step (default 6000, quick 3000)
  --connections N         keep-alive connections of the client (default 256)
  --batch-sizes a,b       LEDGER_BATCH_ROWS_MAX values of the sweep (default 1,8,32,128,512)
  --batch-waits a,b       extra sweep rows: LEDGER_BATCH_WAIT_MS values at the largest batch size
                          (default 2; the other rows use the server's default, 0; 'none' for no rows)
  --batch-wait-ms MS      LEDGER_BATCH_WAIT_MS for every core server (default: the server's own)
  --p99-max MS            latency limit of a passing step (default 20, the DESIGN §3 target); a
                          larger one finds the throughput ceiling instead of the sustained rate
  --rate R                no search: fixed-rate steps at R/s (and the rate of phase profile)
  --cold                  do not warm the Redis card cache before a core phase
  --no-retry              do not repeat a marginally failing ladder step (p99 < 3× the limit, no errors)
  --no-vacuum             do not VACUUM the accounts table before each phase (see docs/performance.md)
  --wait-quiet S          before each phase wait up to S seconds for the machine to be < 25% busy
                          (other engineers' test runs share the 2 cores)
  --lock-wait S           wait up to S seconds (default 1800) while another load run holds the
                          machine-wide run lock (a PostgreSQL advisory lock): one run at a time
  --out DIR               results directory (default var/loadtest)`;

function list(value: string): number[] {
  return value.split(',').map((v) => {
    const n = Number(v.trim());
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${v}`);
    return n;
  });
}

export function parseArgs(argv: string[]): RunnerArgs | null {
  const args: RunnerArgs = {
    quick: false,
    phases: ['core', 'naive', 'sweep', 'cards'],
    scenario: 'payments',
    url: null,
    cards: 100_000,
    largeCards: 1_000_000,
    firstSerial: 1n,
    database: 'citizencard_bench',
    largeDatabase: 'citizencard_bench_1m',
    ladder: defaultLadder,
    stepMs: 6000,
    connections: 256,
    batchSizes: [1, 8, 32, 128, 512],
    batchWaits: [2],
    batchWaitMs: null,
    rate: null,
    cold: false,
    retry: true,
    waitQuietS: 0,
    p99MaxMs: 20,
    vacuum: true,
    lockWaitS: 1800,
    outDir: 'var/loadtest',
  };
  let stepSet = false;
  let ladderSet = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return null;
      case '--quick':
        args.quick = true;
        break;
      case '--phases':
        args.phases = value().split(',').map((p) => {
          if (!(phaseNames as readonly string[]).includes(p)) throw new Error(`unknown phase ${p}`);
          return p as Phase;
        });
        break;
      case '--scenario':
        args.scenario = value();
        break;
      case '--url':
        args.url = value();
        break;
      case '--cards':
        args.cards = list(value())[0]!;
        break;
      case '--large-cards':
        args.largeCards = list(value())[0]!;
        break;
      case '--first-serial':
        args.firstSerial = BigInt(value());
        break;
      case '--database':
        args.database = value();
        break;
      case '--large-database':
        args.largeDatabase = value();
        break;
      case '--ladder':
        args.ladder = list(value());
        ladderSet = true;
        break;
      case '--step-ms':
        args.stepMs = list(value())[0]!;
        stepSet = true;
        break;
      case '--connections':
        args.connections = list(value())[0]!;
        break;
      case '--batch-sizes':
        args.batchSizes = list(value());
        break;
      case '--batch-waits': {
        const v = value();
        args.batchWaits = v === 'none' ? [] : v.split(',').map((w) => {
          const n = Number(w);
          if (!Number.isInteger(n) || n < 0) throw new Error(`not a wait in ms: ${w}`);
          return n;
        });
        break;
      }
      case '--batch-wait-ms':
        args.batchWaitMs = String(Number(value()));
        break;
      case '--rate':
        args.rate = list(value())[0]!;
        break;
      case '--cold':
        args.cold = true;
        break;
      case '--wait-quiet':
        args.waitQuietS = list(value())[0]!;
        break;
      case '--p99-max':
        args.p99MaxMs = list(value())[0]!;
        break;
      case '--lock-wait':
        args.lockWaitS = Number(value());
        if (!Number.isFinite(args.lockWaitS) || args.lockWaitS < 0) throw new Error('--lock-wait needs seconds');
        break;
      case '--no-vacuum':
        args.vacuum = false;
        break;
      case '--no-retry':
        args.retry = false;
        break;
      case '--out':
        args.outDir = value();
        break;
      default:
        throw new Error(`unknown option ${flag}\n${usage}`);
    }
  }
  if (args.quick && !stepSet) args.stepMs = 3000;
  if (args.quick && !ladderSet) args.ladder = [250, 500, 1000, 2000, 3000, 4000, 6000, 8000, 12_000];
  // Against a running server only its search (or fixed-rate) phase makes sense.
  if (args.url) args.phases = ['core'];
  return args;
}

// Command line of the load runner (see loadtest/README.md).
import { defaultLadder } from './search.js';

export const phaseNames = ['core', 'naive', 'sweep', 'cards', 'profile'] as const;
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
  batchWaitMs: string | null;
  rate: number | null;
  cold: boolean;
  retry: boolean;
  waitQuietS: number;
  outDir: string;
}

export const usage = `usage: npm run loadtest -- [options]
  --quick                 short steps (3 s), coarse ladder, two bisection steps fewer (about 4 minutes)
  --phases a,b            of core,naive,sweep,cards,profile (default core,naive,sweep,cards)
  --scenario NAME         payments (default)
  --url URL               target a running server (http://127.0.0.1:PORT) instead of starting one;
                          its cards must be seeded: --cards N [--first-serial S] (the demo seed: --cards 1000)
  --cards N               cards in the main bench database (default 100000)
  --large-cards N         cards in the large database of phase cards (default 1000000)
  --database NAME         main bench database (default citizencard_bench)
  --large-database NAME   (default citizencard_bench_1m)
  --ladder r1,r2,…        arrival rates to climb (requests/s)
  --step-ms MS            duration of each measured step (default 8000, quick 3000)
  --connections N         keep-alive connections of the client (default 256)
  --batch-sizes a,b       LEDGER_BATCH_ROWS_MAX values of the sweep (default 1,8,32,128,512)
  --batch-wait-ms MS      LEDGER_BATCH_WAIT_MS for every core server (default: the server's own)
  --rate R                no search: fixed-rate steps at R/s (and the rate of phase profile)
  --cold                  do not warm the Redis card cache before a core phase
  --no-retry              do not repeat a failing ladder step once
  --wait-quiet S          before each phase wait up to S seconds for the machine to be < 25% busy
                          (other engineers' test runs share the 2 cores)
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
    stepMs: 8000,
    connections: 256,
    batchSizes: [1, 8, 32, 128, 512],
    batchWaitMs: null,
    rate: null,
    cold: false,
    retry: true,
    waitQuietS: 0,
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

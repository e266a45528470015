// The scenario interface of the load runner: how a scenario prepares (once per database, against
// the core's admin API) and how it makes one request against a target (the core or the naive
// baseline). New scenarios (taps, ISO 8583 purchases) implement this and join `scenarios` in run.ts.
import type { HttpPool } from './http-pool.js';

/** What one request came to. `overload` is a refusal under load (HTTP 503, or code 91). */
export type Outcome =
  | { kind: 'approved' }
  | { kind: 'declined'; code: string }
  | { kind: 'overload'; code: string }
  | { kind: 'error'; reason: string };

/** The admin API of the core server, for preparing terminals, operators and the like. */
export interface AdminApi {
  baseUrl: string;
  post(path: string, body: unknown): Promise<{ status: number; json: unknown }>;
}

/** The seeded cards: card numbers in serial order (scripts/seed-cards.ts). */
export interface CardSet {
  cardNos: string[];
  /** A uniformly random card of the set. */
  pick(): string;
}

export interface Target {
  /** 'core' (src/main.ts), 'naive' (loadtest/naive-server.ts) or 'external' (--url). */
  kind: 'core' | 'naive' | 'external';
  host: string;
  httpPort: number;
  /** For scenarios with their own transport (ISO 8583 over TCP). */
  isoPort?: number;
  /** A keep-alive HTTP pool to the target, shared by the HTTP scenarios of a run step. */
  http: HttpPool;
}

export interface WorkloadContext {
  target: Target;
  cards: CardSet;
  /** Unique per runner process: scenarios build their idempotency ids from it. */
  runId: string;
}

export interface Workload {
  /** Makes request number `seq` (0, 1, 2, … unique within the run) and says what it came to. */
  fire(seq: number): Promise<Outcome>;
  close?(): Promise<void>;
}

export interface Scenario<State = unknown> {
  name: string;
  description: string;
  /** Targets the scenario can run against; the naive baseline only speaks POST /v1/payments. */
  targets: Target['kind'][];
  /** Extra environment for the core server, e.g. { ROLE: 'all' } to get the ISO 8583 listener. */
  serverEnv?: Record<string, string>;
  /** Once per database, against the core (registers terminals); the state is JSON. */
  setup(admin: AdminApi): Promise<State>;
  workload(state: State, ctx: WorkloadContext): Workload;
  /**
   * For the durability check (approved answers vs committed transfers) and the batch sizes: the
   * op_kind and terminal of the leg-0 transfer each approval commits, with op_id `${runId}-${seq}`.
   * Scenarios whose approvals do not map one to one to such transfers leave it out.
   */
  ledgerCheck?(state: State): { opKind: string; terminalId: string };
}

/** Classifies the usual answer of a money call: 200 {approved, code}, 503, 4xx/5xx problems. */
export function classifyMoneyAnswer(status: number, body: Buffer): Outcome {
  if (status === 503) return { kind: 'overload', code: '503' };
  if (status !== 200) return { kind: 'error', reason: `HTTP ${status}` };
  let parsed: { approved?: unknown; code?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as { approved?: unknown; code?: unknown };
  } catch {
    return { kind: 'error', reason: 'invalid JSON' };
  }
  if (parsed.approved === true) return { kind: 'approved' };
  const code = typeof parsed.code === 'string' ? parsed.code : '??';
  if (code === '91') return { kind: 'overload', code };
  if (code === '96') return { kind: 'error', reason: 'code 96' };
  return { kind: 'declined', code };
}

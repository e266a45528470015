// Configuration from the environment (DESIGN §9), validated once at start: a bad value stops the
// process with a message naming the variable.
import { availableParallelism } from 'node:os';

/** `web` = api + iso without the jobs worker: what `npm start` runs in each of its worker processes. */
export type Role = 'all' | 'api' | 'iso' | 'worker' | 'web';

export interface Config {
  nodeEnv: string;
  databaseUrl: string;
  redisUrl: string;
  redisKeyPrefix: string;
  httpPort: number;
  httpHost: string;
  isoPort: number;
  /** ISO 8583 over mutual TLS (DESIGN §13). */
  isoTlsPort: number;
  /** The terminal HTTP API over HTTPS with client certificates (DESIGN §13). */
  httpsPort: number;
  /** TERMINAL_TLS_ONLY=1: the plain ISO port is not opened and terminal API keys are refused on HTTP_PORT. */
  terminalTlsOnly: boolean;
  /** Host names (besides localhost and 127.0.0.1) in the listeners' server certificate. */
  tlsServerHosts: string[];
  adminToken: string;
  jwtSecret: string;
  masterKeyHex: string;
  reportsDir: string;
  logLevel: string;
  /** LOG_FORMAT: `json` lines, `pretty` lines, or `auto` (pretty when stdout is a terminal). */
  logFormat: 'auto' | 'json' | 'pretty';
  seed: boolean;
  role: Role;
  policyFile: string;
  topupAmountMaxFen: bigint;
  ledgerBatchRowsMax: number;
  ledgerBatchWaitMs: number;
  ledgerQueueMax: number;
  /** Event-loop delay above which HTTP requests are refused with 503 (under-pressure). */
  eventLoopDelayMaxMs: number;
  /** HTTP/ISO worker processes `npm start` runs on the same ports (src/supervisor.ts). */
  webConcurrency: number;
  /** Life of a process's owner lease in Redis without a heartbeat; then its pending marks are recovered. */
  ownerLeaseMs: number;
  /** REDIS_CLUSTER=1: `redisUrl` is a comma-separated list of cluster seeds. */
  redisCluster: boolean;
  /** The seeds of `redisUrl` (one URL unless a cluster). */
  redisSeeds: string[];
}

export const devAdminToken = 'dev-admin-token';
const devMasterKeyHex = '0123456789abcdeffedcba98765432100123456789abcdeffedcba9876543210';
const devJwtSecret = 'dev-jwt-secret-change-me-in-production-0000';

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`configuration: ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  return value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const value = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `must use ${protocols.join(' or ')}`);
  return value;
}

export function loadConfig(env: Env = process.env): Config {
  // Compared without case or spaces: `Production` or `PRODUCTION ` must not slip the checks below.
  const nodeEnv = str(env, 'NODE_ENV', 'development').trim().toLowerCase();
  const production = nodeEnv === 'production';
  const adminToken = str(env, 'ADMIN_TOKEN', devAdminToken);
  if (production && adminToken === devAdminToken) {
    throw new ConfigError('ADMIN_TOKEN', 'the development default is refused when NODE_ENV=production; set a secret token');
  }
  if (adminToken.length < 12) throw new ConfigError('ADMIN_TOKEN', 'must be at least 12 characters');
  const masterKeyHex = str(env, 'MASTER_KEY', devMasterKeyHex).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(masterKeyHex)) throw new ConfigError('MASTER_KEY', 'must be 64 hex characters (a 256-bit key)');
  if (production && masterKeyHex === devMasterKeyHex) throw new ConfigError('MASTER_KEY', 'the development default is refused in production');
  const jwtSecret = str(env, 'JWT_SECRET', devJwtSecret);
  if (jwtSecret.length < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  if (production && jwtSecret === devJwtSecret) throw new ConfigError('JWT_SECRET', 'the development default is refused in production');
  const role = str(env, 'ROLE', 'all');
  if (!['all', 'api', 'iso', 'worker', 'web'].includes(role)) throw new ConfigError('ROLE', 'must be all, api, iso, worker or web');
  const seed = str(env, 'SEED', '1');
  if (seed !== '0' && seed !== '1') throw new ConfigError('SEED', 'must be 0 or 1');
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', 'must be one of fatal, error, warn, info, debug, trace, silent');
  }
  const logFormat = str(env, 'LOG_FORMAT', 'auto');
  if (!['auto', 'json', 'pretty'].includes(logFormat)) throw new ConfigError('LOG_FORMAT', 'must be auto, json or pretty');
  const tlsOnly = str(env, 'TERMINAL_TLS_ONLY', '0');
  if (tlsOnly !== '0' && tlsOnly !== '1') throw new ConfigError('TERMINAL_TLS_ONLY', 'must be 0 or 1');
  const tlsServerHosts = str(env, 'TLS_SERVER_HOSTS', '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  for (const host of tlsServerHosts) {
    if (!/^[A-Za-z0-9.-]{1,253}$/.test(host)) throw new ConfigError('TLS_SERVER_HOSTS', `"${host}" is not a host name or IPv4 address`);
  }
  const topupMax = str(env, 'TOPUP_AMOUNT_MAX', '100000');
  if (!/^[1-9]\d{0,12}$/.test(topupMax)) throw new ConfigError('TOPUP_AMOUNT_MAX', 'must be a positive integer number of fen');
  const cluster = str(env, 'REDIS_CLUSTER', '0');
  if (cluster !== '0' && cluster !== '1') throw new ConfigError('REDIS_CLUSTER', 'must be 0 or 1');
  const redisRaw = str(env, 'REDIS_URL', 'redis://127.0.0.1:6379/0');
  const redisSeeds = cluster === '1' ? redisRaw.split(',').map((s) => s.trim()).filter((s) => s !== '') : [redisRaw];
  if (redisSeeds.length === 0) throw new ConfigError('REDIS_URL', 'needs at least one redis://host:port seed');
  for (const seed of redisSeeds) url({ REDIS_URL: seed }, 'REDIS_URL', seed, ['redis:', 'rediss:']);
  return {
    nodeEnv,
    databaseUrl: url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/citizencard', ['postgres:', 'postgresql:']),
    redisUrl: redisRaw,
    redisCluster: cluster === '1',
    redisSeeds,
    redisKeyPrefix: str(env, 'REDIS_KEY_PREFIX', 'cc:'),
    httpPort: int(env, 'HTTP_PORT', 8080, 0, 65535),
    httpHost: str(env, 'HTTP_HOST', '0.0.0.0'),
    isoPort: int(env, 'ISO_PORT', 5800, 0, 65535),
    isoTlsPort: int(env, 'ISO_TLS_PORT', 5843, 0, 65535),
    httpsPort: int(env, 'HTTPS_PORT', 8443, 0, 65535),
    terminalTlsOnly: tlsOnly === '1',
    tlsServerHosts,
    adminToken,
    jwtSecret,
    masterKeyHex,
    reportsDir: str(env, 'REPORTS_DIR', './var/reports'),
    logLevel,
    logFormat: logFormat as Config['logFormat'],
    seed: seed === '1',
    role: role as Role,
    policyFile: str(env, 'POLICY_FILE', './data/demo-network.json'),
    topupAmountMaxFen: BigInt(topupMax),
    ledgerBatchRowsMax: int(env, 'LEDGER_BATCH_ROWS_MAX', 512, 1, 10_000),
    ledgerBatchWaitMs: int(env, 'LEDGER_BATCH_WAIT_MS', 0, 0, 1000),
    ledgerQueueMax: int(env, 'LEDGER_QUEUE_MAX', 20_000, 1, 1_000_000),
    eventLoopDelayMaxMs: int(env, 'EVENT_LOOP_DELAY_MAX_MS', 1000, 10, 60_000),
    webConcurrency: int(env, 'WEB_CONCURRENCY', availableParallelism(), 1, 256),
    ownerLeaseMs: int(env, 'OWNER_LEASE_MS', 30_000, 500, 600_000),
  };
}

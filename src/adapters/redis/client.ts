// Redis connection (one server, or a Redis Cluster from its seeds) and the Lua scripts, each read
// from its .lua file once and run by EVALSHA (ioredis defineCommand falls back to EVAL only when the
// script cache was flushed; on a cluster, on the node that owns the script's one slot).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

const luaDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lua');

export const scriptNames = ['load-card', 'card-probe', 'authorize', 'credit', 'finalize', 'undo', 'abandon', 'set-fields'] as const;
export type ScriptName = (typeof scriptNames)[number];

const scriptKeys: Record<ScriptName, number> = {
  'load-card': 2,
  'card-probe': 1,
  authorize: 4,
  credit: 4,
  finalize: 3,
  undo: 4,
  abandon: 5,
  'set-fields': 1,
};

export type ScriptReply = (string | number)[];

export interface CardRedis extends Redis {
  runScript(name: ScriptName, keys: string[], args: (string | number)[]): Promise<ScriptReply>;
}

export function loadLua(name: string): string {
  return readFileSync(path.join(luaDir, `${name}.lua`), 'utf8');
}

/** A cluster's seed list (`redis://host:port,redis://host:port`) as ioredis Cluster nodes and options. */
export function clusterSeeds(urls: string): { nodes: { host: string; port: number }[]; options: RedisOptions } {
  const parsed = urls.split(',').map((u) => new URL(u.trim()));
  const first = parsed[0];
  const options: RedisOptions = {};
  if (first?.password) options.password = decodeURIComponent(first.password);
  if (first?.username) options.username = decodeURIComponent(first.username);
  if (first?.protocol === 'rediss:') options.tls = {};
  return { nodes: parsed.map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) })), options };
}

/** A plain ioredis client, or a Cluster client when `cluster` (then `url` lists the seeds). */
export function connectRedis(url: string, cluster: boolean, options: RedisOptions): Redis {
  if (!cluster) return new Redis(url, options);
  const seeds = clusterSeeds(url);
  const { enableAutoPipelining, ...perNode } = options;
  // The Cluster client has the same command API; callers use only single-slot commands and scripts.
  return new Cluster(seeds.nodes, { redisOptions: { ...perNode, ...seeds.options }, enableAutoPipelining, enableOfflineQueue: true, scaleReads: 'master' }) as unknown as Redis;
}

/** The servers a SCAN must visit: every master of a cluster, else the one server. */
export function scanTargets(redis: Redis): Redis[] {
  const client: unknown = redis;
  return client instanceof Cluster ? client.nodes('master') : [redis];
}

export function createRedis(url: string, extraScripts: Record<string, { keys: number; file: string }> = {}, cluster = false): CardRedis {
  const redis = connectRedis(url, cluster, {
    maxRetriesPerRequest: 2,
    // Commands issued in the same tick go out in one write: syscalls, not Redis, are the cost here.
    enableAutoPipelining: true,
    enableOfflineQueue: true,
    connectTimeout: 3000,
    lazyConnect: false,
  }) as CardRedis;
  redis.on('error', () => undefined); // reconnects on its own; readiness reports the outage
  const all: Record<string, { keys: number; lua: string }> = {};
  for (const name of scriptNames) all[name] = { keys: scriptKeys[name], lua: loadLua(name) };
  for (const [name, spec] of Object.entries(extraScripts)) all[name] = { keys: spec.keys, lua: readFileSync(spec.file, 'utf8') };
  for (const [name, spec] of Object.entries(all)) {
    redis.defineCommand(commandName(name), { numberOfKeys: spec.keys, lua: spec.lua });
  }
  redis.runScript = (name, keys, args) => {
    const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<ScriptReply>>)[commandName(name)];
    if (!fn) throw new Error(`unknown script ${name}`);
    return fn.call(redis, ...keys, ...args);
  };
  return redis;
}

function commandName(script: string): string {
  return `cc_${script.replace(/-/g, '_')}`;
}

// Redis connection and the Lua scripts, each read from its .lua file once and run by EVALSHA
// (ioredis defineCommand falls back to EVAL only when the script cache was flushed).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Redis } from 'ioredis';

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

export function createRedis(url: string, extraScripts: Record<string, { keys: number; file: string }> = {}): CardRedis {
  const redis = new Redis(url, {
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

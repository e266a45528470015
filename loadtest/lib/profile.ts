// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by package/file, to
// show where the server's CPU goes under load.
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Sampled time not idle (the thread's CPU, approximately). */
  busyMs: number;
  /** Busy time by layer (HTTP stack, validation, Redis client, PostgreSQL client, app code, GC …). */
  byLayer: { name: string; ms: number; pct: number }[];
  byFunction: { name: string; ms: number; pct: number }[];
  byModule: { name: string; ms: number; pct: number }[];
}

function moduleOf(url: string): string {
  if (!url) return '(native / V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return url;
  const src = /\/(src|loadtest)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  return url;
}

const layers: [string, RegExp][] = [
  ['start-up (tsx, module loading)', /^(tsx|esbuild|get-tsconfig|node:internal\/modules|node:internal\/bootstrap|node:internal\/deps\/cjs-module-lexer|node:internal\/worker|node:internal\/url|node:fs|node:internal\/fs)/],
  ['HTTP server (fastify, node:http, sockets)', /^(fastify|find-my-way|avvio|light-my-request|@fastify\/(?!type-provider)|helmet|node:_http|node:net|node:internal\/(streams|stream_base_commons|http|net)|node:stream|node:events|node:internal\/event_target|process-warning|toad-cache|rfdc|abstract-logging)/],
  ['validation and JSON (ajv, fast-json-stringify, secure-json-parse)', /^(ajv|fast-json-stringify|fast-uri|secure-json-parse|json-schema-|@fastify\/type-provider|typebox|@sinclair)/],
  ['metrics (fastify-metrics, prom-client)', /^(fastify-metrics|prom-client|tdigest|bintrees)/],
  ['logging (pino)', /^(pino|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|on-exit-leak-free|atomic-sleep)/],
  ['Redis client (ioredis)', /^(ioredis|redis-parser|redis-errors|cluster-key-slot|denque|standard-as-callback|lodash)/],
  ['PostgreSQL client (pg)', /^(pg|pg-protocol|pg-pool|pg-types|postgres-|pgpass|buffer-writer|packet-reader)/],
  ['crypto (hashes: request hash, API key, admin token)', /^node:internal\/crypto/],
  ['application code (src/)', /^src\//],
  ['timers and promises', /^(node:internal\/(timers|process\/task_queues|async_hooks)|node:timers)/],
  ['garbage collector', /^\(garbage collector\)$/],
];

function layerOf(module: string): string {
  for (const [name, re] of layers) if (re.test(module)) return name;
  if (module === '(idle)') return '(idle)';
  if (module === '(native / V8)' || module === '(program)') return 'native (socket writes, V8 internals)';
  return 'other';
}

export async function summarizeProfile(file: string, top = 20): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const hits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0) || 1;
  const idleHits = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const msPerHit = totalMs / hits;
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  const layer = new Map<string, number>();
  for (const n of profile.nodes) {
    const h = n.hitCount ?? 0;
    if (h === 0) continue;
    const name = `${n.callFrame.functionName || '(anonymous)'} ${moduleOf(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + h);
    const m = n.callFrame.url ? moduleOf(n.callFrame.url) : n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native / V8)';
    mod.set(m, (mod.get(m) ?? 0) + h);
    const l = layerOf(m);
    if (l !== '(idle)') layer.set(l, (layer.get(l) ?? 0) + h);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, h]) => ({ name, ms: Math.round(h * msPerHit), pct: Math.round((h / hits) * 1000) / 10 }));
  const busyHits = Math.max(1, hits - idleHits);
  const byLayer = [...layer.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, h]) => ({ name, ms: Math.round(h * msPerHit), pct: Math.round((h / busyHits) * 1000) / 10 }));
  return { totalMs: Math.round(totalMs), busyMs: Math.round(busyHits * msPerHit), byLayer, byFunction: rank(fn), byModule: rank(mod) };
}

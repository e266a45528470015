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

export async function summarizeProfile(file: string, top = 20): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const hits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0) || 1;
  const idleHits = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const msPerHit = totalMs / hits;
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  for (const n of profile.nodes) {
    const h = n.hitCount ?? 0;
    if (h === 0) continue;
    const name = `${n.callFrame.functionName || '(anonymous)'} ${moduleOf(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + h);
    const m = n.callFrame.url ? moduleOf(n.callFrame.url) : n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native / V8)';
    mod.set(m, (mod.get(m) ?? 0) + h);
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, h]) => ({ name, ms: Math.round(h * msPerHit), pct: Math.round((h / hits) * 1000) / 10 }));
  return { totalMs: Math.round(totalMs), busyMs: Math.round((hits - idleHits) * msPerHit), byFunction: rank(fn), byModule: rank(mod) };
}

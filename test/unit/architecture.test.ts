// The shape of src/: no import cycle among its modules, the application core free of adapters, the
// HTTP adapter free of SQL and Redis, and one clock. A small walker over the `import … from` and
// `export … from` lines (type-only imports count: a cycle of types is still a knot in the code).
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const src = path.join(root, 'src');

/** src files that still import from src/adapters/ (the rule's known offenders: empty it as they are fixed). */
const appImportsAdaptersAllowed: string[] = [
  'src/app/admin.ts',
  'src/app/console.ts',
  'src/app/fare-sandbox.ts',
  'src/app/ownership.ts',
  'src/app/recovery.ts',
  'src/app/registry-cards.ts',
  'src/app/registry.ts',
  'src/app/stats.ts',
  'src/app/transit-card.ts',
  'src/app/transit-policies.ts',
  'src/app/transit-reconcile.ts',
  'src/app/transit.ts',
];

/** src/adapters/http files that still import PostgreSQL or Redis adapters (known offenders: empty it as they are fixed). */
const httpImportsStoresAllowed: string[] = [
  'src/adapters/http/app.ts',
  'src/adapters/http/auth.ts',
  'src/adapters/http/routes/console.ts',
  'src/adapters/http/routes/offline-budgets.ts',
  'src/adapters/http/routes/terminal-reports.ts',
];

/** Files other than src/platform/clock.ts that still read the wall clock directly (known offenders). */
const dateNowAllowed: string[] = [
  'src/adapters/http/auth.ts',
  'src/adapters/iso8583/terminal-keys.ts',
  'src/adapters/jobs/queue.ts',
  'src/adapters/redis/card-gate.ts',
  'src/adapters/redis/lease.ts',
  'src/app/transit-card.ts',
  'src/app/transit-policies.ts',
];

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(full);
  }
  return files.sort();
}

const importPattern = /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w$*\s,]*|[\w$*\s,]*\{[^}]*\})\s*from\s*['"]([^'"]+)['"]/gm;
const bareImportPattern = /^[ \t]*import\s+['"]([^'"]+)['"]/gm;

/** The src modules a file imports (relative specifiers resolved to their .ts files). */
function importsOf(file: string, text: string): string[] {
  const found = new Set<string>();
  for (const pattern of [importPattern, bareImportPattern]) {
    for (const match of text.matchAll(pattern)) {
      const spec = match[1]!;
      if (!spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), spec);
      const candidates = [target.replace(/\.js$/, '.ts'), `${target}.ts`, path.join(target, 'index.ts')];
      const resolved = candidates.find((c) => c.endsWith('.ts') && existsSync(c));
      if (resolved) found.add(resolved);
    }
  }
  return [...found].sort();
}

/** Every cycle's files, each listed once from the first file of it that the walk meets. */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
const relative = (file: string) => path.relative(root, file).split(path.sep).join('/');

const files = sourceFiles(src);
const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const graph = new Map(files.map((f) => [f, importsOf(f, texts.get(f)!)]));

function offenders(rule: (file: string, imports: string[], text: string) => boolean): string[] {
  return files.filter((f) => rule(relative(f), graph.get(f)!.map(relative), texts.get(f)!)).map(relative);
}

/** The rule holds except for the allow-listed files, and every allow-listed file still needs its entry. */
function expectOnly(found: string[], allowed: string[]): void {
  expect(found.filter((f) => !allowed.includes(f)), 'files breaking the rule').toEqual([]);
  expect(allowed.filter((f) => !found.includes(f)), 'allow-listed files that keep the rule now: remove them from the list').toEqual([]);
}

describe('the import walker', () => {
  it('reads named, default, type, namespace, re-export, multi-line and bare imports', () => {
    const file = path.join(src, 'app', 'x.ts');
    const text = [
      "import { a, type B } from './money.js';",
      "import type { C } from '../platform/clock.js';",
      "import * as d from '../domain/codes.js';",
      'import {',
      '  e,',
      '  f,',
      "} from './authorizer.js';",
      "export { g } from './pin.js';",
      "export * from './ports.js';",
      "import './terminal.js';",
      "import pg from 'pg';",
      "const s = 'import x from \"./nowhere.js\"';",
    ].join('\n');
    expect(importsOf(file, text).map(relative)).toEqual(['src/app/authorizer.ts', 'src/app/money.ts', 'src/app/pin.ts', 'src/app/ports.ts', 'src/app/terminal.ts', 'src/domain/codes.ts', 'src/platform/clock.ts'].sort());
  });

  it('finds a cycle and names its files', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(cyclesOf(graph)).toEqual([['a', 'b', 'c', 'a']]);
    expect(cyclesOf(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });
});

describe('src/ architecture', () => {
  it('walks the whole tree', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get(path.join(src, 'main.ts'))!.map(relative)).toContain('src/system.ts');
  });

  it('has no import cycle among its modules', () => {
    expect(cyclesOf(graph).map((cycle) => cycle.map(relative).join(' → '))).toEqual([]);
  });

  it('keeps src/app free of imports from src/adapters', () => {
    expectOnly(
      offenders((file, imports) => file.startsWith('src/app/') && imports.some((i) => i.startsWith('src/adapters/'))),
      appImportsAdaptersAllowed,
    );
  });

  it('keeps src/adapters/http free of imports from the PostgreSQL and Redis adapters', () => {
    expectOnly(
      offenders((file, imports) => file.startsWith('src/adapters/http/') && imports.some((i) => i.startsWith('src/adapters/postgres/') || i.startsWith('src/adapters/redis/'))),
      httpImportsStoresAllowed,
    );
  });

  it('reads the wall clock only in src/platform/clock.ts', () => {
    expectOnly(
      offenders((file, _imports, text) => file !== 'src/platform/clock.ts' && withoutComments(text).includes('Date.now()')),
      dateNowAllowed,
    );
  });
});

// Log lines: one JSON object per line with no key twice (reqId and msg appeared twice before), the
// ready line's URLs, and the pretty form a person at a terminal sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { IsoClient } from '../../terminals/pos/client.js';
import { prettyLine } from '../../src/platform/log-pretty.js';
import { resolveLogFormat } from '../../src/platform/logger.js';
import { whereToGo } from '../../src/wiring/where-to-go.js';
import { loadConfig } from '../../src/platform/config.js';

let sys: TestSystem;
beforeAll(async () => {
  sys = await createTestSystem({ env: { LOG_LEVEL: 'debug' } });
});
afterAll(async () => sys?.destroy());

/** Top-level keys of a JSON object text, in order, duplicates kept (JSON.parse would hide them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(line.slice(i + 1, j));
      i = j;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return keys;
}

describe('log lines', () => {
  it('carry no key twice: HTTP requests and ISO messages', async () => {
    await sys.http.inject({ method: 'GET', url: '/v1/admin/trial-balance' }); // 401: logged at info
    const client = await IsoClient.connect('127.0.0.1', sys.iso.port);
    await client.request({ mti: '0800', fields: new Map([[11, '000001'], [41, 'NOPE0001'], [70, '301']]) }).catch(() => undefined);
    client.close();
    await new Promise((r) => setTimeout(r, 50));
    const lines = sys.logLines.flatMap((chunk) => chunk.split('\n')).filter(Boolean);
    const request = lines.filter((l) => l.includes('"msg":"request"'));
    const iso = lines.filter((l) => l.includes('"msg":"iso"'));
    expect(request.length).toBeGreaterThan(0);
    expect(iso.length).toBeGreaterThan(0);
    for (const line of lines) {
      const keys = topLevelKeys(line);
      expect(keys.length, line).toBe(new Set(keys).size);
    }
    expect(JSON.parse(request[0]!)).toMatchObject({ reqId: expect.any(String), status: 401, url: '/v1/admin/trial-balance' });
  });

  it('are pretty for a terminal and JSON for a pipe', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    const line = prettyLine(JSON.stringify({ level: 30, time: '2026-12-02T04:51:02.123Z', svc: 'citizen-card', msg: 'ready', role: 'all', docs: 'http://127.0.0.1:8080/docs' }));
    expect(line).toBe('04:51:02 INFO  ready  role=all docs=http://127.0.0.1:8080/docs');
    const failed = prettyLine(JSON.stringify({ level: 50, time: '2026-12-02T04:51:03Z', msg: 'request failed', err: { message: 'boom', stack: 'Error: boom\n    at x (a.ts:1)' } }));
    expect(failed).toBe('04:51:03 ERROR request failed  err=boom\n    at x (a.ts:1)');
    expect(() => loadConfig({ LOG_FORMAT: 'fancy' })).toThrow(/LOG_FORMAT/);
  });

  it('the ready line says where to go: docs, console, kiosk, and the demo terminal keys', () => {
    const config = loadConfig({});
    const where = whereToGo(config, 8080, 5800);
    expect(where).toMatchObject({ docs: 'http://127.0.0.1:8080/docs', console: 'http://127.0.0.1:8080/console', kiosk: 'http://127.0.0.1:8080/kiosk', iso: 'tcp://127.0.0.1:5800' });
    expect(where.demoTerminals).toMatch(/var\/demo-terminals\.json$/);
    expect(whereToGo(loadConfig({ SEED: '0' }), 8080, 5800).demoTerminals).toBeNull();
  });
});

// The OpenAPI document at /docs/json: valid (swagger-parser), every operation documented, and
// every request example answers, against the seeded demo data, the status the document gives it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv } from 'ajv';
import { createTestSystem, adminToken, type TestSystem } from '../support/system.js';
import { operations, type OperationDoc } from '../../src/adapters/http/openapi/index.js';
import { responseExamples } from '../../src/adapters/http/openapi/response-examples.js';
import { citizenCard, exampleBusinessDate, exampleTappedAt } from '../../src/adapters/http/openapi/core-operations.js';
import { businessDateOf } from '../../src/domain/business-day.js';

type Spec = { paths: Record<string, Record<string, { summary?: string; description?: string; security?: unknown[]; responses: Record<string, unknown>; requestBody?: { content: Record<string, { example?: unknown }> } }>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } };

const root = process.cwd();
let workDir: string;
let sys: TestSystem;
let spec: Spec;
let terminalKeys: Map<string, string>;

beforeAll(async () => {
  // The demo terminals' keys are written to ./var/demo-terminals.json: a directory of this run's own.
  workDir = mkdtempSync(path.join(os.tmpdir(), 'openapi-'));
  process.chdir(workDir);
  sys = await createTestSystem({ env: { SEED: '1', POLICY_FILE: path.join(root, 'data/demo-network.json'), REPORTS_DIR: path.join(workDir, 'reports') } });
  const terminals = JSON.parse(readFileSync(path.join(workDir, 'var/demo-terminals.json'), 'utf8')) as { terminalId: string; apiKey: string }[];
  terminalKeys = new Map(terminals.map((t) => [t.terminalId, t.apiKey]));
  spec = (await sys.http.inject({ method: 'GET', url: '/docs/json' })).json();
}, 120_000);
afterAll(async () => {
  await sys?.destroy();
  process.chdir(root);
  rmSync(workDir, { recursive: true, force: true });
});

const operationKeys = (s: Spec) => Object.entries(s.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));

describe('the OpenAPI document', () => {
  it('is valid OpenAPI (swagger-parser)', async () => {
    await expect(SwaggerParser.validate(structuredClone(spec) as never)).resolves.toBeTruthy();
  });

  it('documents every operation with a summary, a description, its errors as problem+json, and an example', () => {
    const keys = operationKeys(spec);
    expect(keys.length).toBeGreaterThan(50);
    expect(keys.filter((k) => !operations[k])).toEqual([]);
    expect(Object.keys(operations).filter((k) => !keys.includes(k))).toEqual([]);
    for (const key of keys) {
      const [method, p] = key.split(' ') as [string, string];
      const op = spec.paths[p]![method.toLowerCase()]!;
      expect(op.summary, key).toBeTruthy();
      expect(op.description, key).toBeTruthy();
      expect(op.responses['503'], key).toMatchObject({ content: { [operations[key]!.answers?.[503] ? 'application/json' : 'application/problem+json']: {} } });
      for (const [status, answer] of Object.entries(op.responses)) {
        if (Number(status) >= 400 && !operations[key]!.answers?.[Number(status)]) expect(answer, `${key} ${status}`).toMatchObject({ content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });
      }
      if (op.requestBody) expect(op.requestBody.content['application/json']?.example, key).toBeDefined();
      if (operations[key]!.caller !== 'public') expect(Object.keys(op.responses), key).toEqual(expect.arrayContaining(['401', '403']));
    }
    expect(spec.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(spec.components.schemas)).toEqual(expect.arrayContaining(['Problem', 'OfflineTap', 'MoneyAnswer', 'TapAnswer', 'CardBalance', 'TopupOrder']));
    expect(JSON.stringify(spec.paths['/v1/refunds'])).toContain('#/components/schemas/MoneyAnswer');
  });

  it('gives every operation an answer example that fits the schema of its answer', async () => {
    const resolved = (await SwaggerParser.dereference(structuredClone(spec) as never)) as unknown as Spec;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const misfits: string[] = [];
    for (const [key, doc] of Object.entries(operations)) {
      const [method, p] = key.split(' ') as [string, string];
      const answer = resolved.paths[p]![method.toLowerCase()]!.responses[String(doc.status)] as { content?: Record<string, { schema?: object; example?: unknown }> };
      const media = Object.values(answer.content ?? {})[0];
      expect(media?.example, key).toEqual(responseExamples[key]);
      if (media?.schema && !ajv.validate(media.schema, media.example)) misfits.push(`${key}: ${ajv.errorsText()}`);
    }
    expect(misfits).toEqual([]);
  });

  it('marks health, metrics and the CA files public and gives the real success statuses', () => {
    for (const p of ['/health/live', '/health/ready', '/metrics', '/v1/pki/ca.pem']) expect(spec.paths[p]!.get!.security, p).toEqual([]);
    expect(spec.paths['/v1/taps']!.post!.security).toBeUndefined();
    expect(Object.keys(spec.paths['/v1/admin/operators']!.post!.responses)).toEqual(expect.arrayContaining(['200', '201', '409']));
    expect(spec.paths['/v1/admin/jobs/{name}']!.post!.responses['202']).toBeDefined();
    expect(spec.paths['/v1/citizen/topup']!.post!.responses['410']).toBeDefined();
    const batch = spec.paths['/v1/taps/batch']!.post!.requestBody!.content['application/json'] as unknown as { schema: { properties: { taps: { items: unknown } } } };
    expect(batch.schema.properties.taps.items).toEqual({ $ref: '#/components/schemas/OfflineTap' });
  });
});

describe('every request example, against the demo data', () => {
  it('answers the status its operation documents for it, in order', async () => {
    const now = sys.clock.now();
    // A tap is timed and a report is of a day: the examples' time and date become the current ones.
    const timely = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value ?? null).replaceAll(exampleTappedAt, now.toISOString()).replaceAll(exampleBusinessDate, businessDateOf(now)));
    const ids: Record<string, string> = {};
    let citizenToken = '';
    let departmentKey = '';
    const headersOf = (doc: OperationDoc): Record<string, string> => {
      if (doc.caller === 'public') return {};
      if (doc.caller === 'admin') return { authorization: `Bearer ${adminToken}` };
      if (doc.caller === 'citizen') return { authorization: `Bearer ${citizenToken}` };
      if (doc.caller === 'department') return { authorization: `Bearer ${departmentKey}` };
      const key = terminalKeys.get(doc.caller.slice('terminal:'.length));
      expect(key, doc.caller).toBeDefined();
      return { authorization: `Bearer ${key}` };
    };
    const run = async (key: string, doc: OperationDoc) => {
      const [method, template] = key.split(' ') as [string, string];
      const url = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(ids[name] ?? doc.params![name]!));
      const query = doc.query ? `?${new URLSearchParams(timely(doc.query) as Record<string, string>)}` : '';
      const res = await sys.http.inject({
        method: method as 'GET',
        url: url + query,
        headers: headersOf(doc),
        ...(doc.body !== undefined ? { payload: timely(doc.body) as object } : {}),
      });
      return res;
    };
    const results: string[] = [];
    const failures: string[] = [];
    for (const [key, doc] of Object.entries(operations)) {
      // Each call on a top-up order gets a fresh pending order of the citizen.
      if (key.includes('{orderId}')) {
        const created = await run('POST /v1/citizen/topup-orders', operations['POST /v1/citizen/topup-orders']!);
        ids.orderId = created.json().orderId;
      }
      const res = await run(key, doc);
      const [method, p] = key.split(' ') as [string, string];
      const documented = Object.keys(spec.paths[p]![method.toLowerCase()]!.responses);
      results.push(`${key} → ${res.statusCode}`);
      if (!documented.includes(String(res.statusCode)) || res.statusCode !== doc.status) failures.push(`${key}: ${res.statusCode} (documented ${doc.status}) ${res.body.slice(0, 300)}`);
      const body = res.headers['content-type']?.toString().includes('json') ? res.json() : null;
      // The documented answer has the fields the real one has, and the same decision.
      const example = responseExamples[key];
      expect(example, key).toBeDefined();
      if (body && typeof example === 'object' && example !== null && !Array.isArray(example)) {
        expect(Object.keys(body), key).toEqual(expect.arrayContaining(Object.keys(example)));
        for (const field of ['approved', 'code', 'status']) if (field in example) expect(body[field], `${key} ${field}`).toEqual((example as Record<string, unknown>)[field]);
      } else if (typeof example === 'string') {
        expect(res.body.startsWith(example.split('\n')[0]!), key).toBe(true);
      }
      if (key === 'POST /v1/citizen/login') citizenToken = body.token;
      if (key === 'POST /v1/admin/departments') departmentKey = body.apiKey;
      if (key === 'POST /v1/registry/people') ids.personId = body.personId;
      if (key === 'POST /v1/admin/jobs/{name}' || key === 'POST /v1/admin/fare-sandbox') ids.jobId = body.jobId;
    }
    expect(failures).toEqual([]);
    expect(results.length).toBe(Object.keys(operations).length);
    expect(citizenToken).not.toBe('');
    expect(citizenCard).toHaveLength(16);
  }, 120_000);
});

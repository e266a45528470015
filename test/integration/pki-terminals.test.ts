// The reader programs enrolled (issue 14): `terminals/bus/main.ts enroll` makes a key and gets a
// certificate through the admin API, keeps them in its state dir, and then taps over mutual TLS on
// HTTPS_PORT without an API key; the POS program enrols and pays over ISO 8583 on ISO_TLS_PORT.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, adminToken, type TestSystem } from '../support/system.js';
import { admin, busValidator, issueCard, retailPos } from '../support/fixtures.js';

const run = promisify(execFile);
let sys: TestSystem;
let port: number;
let stateDir: string;

beforeAll(async () => {
  sys = await createTestSystem();
  await sys.http.listen({ port: 0, host: '127.0.0.1' });
  port = (sys.http.server.address() as { port: number }).port;
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'cc-enrol-'));
});
afterAll(async () => {
  await sys?.destroy();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function purse(cardNo: string): Promise<number> {
  return (await sys.http.inject({ method: 'GET', url: `/v1/cards/${cardNo}/balance`, headers: admin })).json().purse as number;
}

describe('reader programs with certificates', () => {
  it('a bus validator enrols, then taps over mutual TLS with no API key', async () => {
    const bus = await busValidator(sys.http);
    const { cardNo } = await issueCard(sys.http, { balance: 1000 });
    const server = `http://127.0.0.1:${port}`;
    const enrolled = await run(process.execPath, ['--import', 'tsx', 'terminals/bus/main.ts', 'enroll', '--terminal', bus.terminalId, '--server', server, '--admin-token', adminToken, '--state-dir', stateDir]);
    const event = jsonLines(enrolled.stdout).find((e) => e.event === 'enrolled');
    expect(event?.serialNumber).toMatch(/^[0-9a-f]{32}$/);
    const keyFile = path.join(stateDir, `${bus.terminalId}.key.pem`);
    expect(((await stat(keyFile)).mode & 0o077)).toBe(0);
    expect(await readFile(path.join(stateDir, `${bus.terminalId}.cert.pem`), 'utf8')).toContain('BEGIN CERTIFICATE');

    const script = path.join(stateDir, 'day.txt');
    await writeFile(script, `tap ${cardNo}\nquit\n`);
    // No --key and no terminals file: only the certificate can identify the reader.
    const out = await run(process.execPath, [
      '--import', 'tsx', 'terminals/bus/main.ts',
      '--terminal', bus.terminalId, '--terminals-file', path.join(stateDir, 'none.json'),
      '--tls-server', `https://127.0.0.1:${sys.pki.httpsPort}`, '--server', 'http://127.0.0.1:1',
      '--state-dir', stateDir, '--replay', script, '--retry-ms', '60000', '--hotlist-ms', '60000',
    ]);
    const events = jsonLines(out.stdout);
    expect(events.find((e) => e.event === 'start')?.tls).toBe(true);
    const tap = events.find((e) => e.event === 'tap');
    expect(tap, out.stdout).toMatchObject({ mode: 'online', approved: true, code: '00' });
    expect(await purse(cardNo)).toBe(1000 - Number(tap!.fare));
  });

  it('a POS enrols and runs its day over ISO 8583 with mutual TLS', async () => {
    const pos = await retailPos(sys.http);
    const server = `http://127.0.0.1:${port}`;
    await run(process.execPath, ['--import', 'tsx', 'terminals/pos/main.ts', 'enroll', '--terminal', pos.terminalId, '--server', server, '--admin-token', adminToken, '--state-dir', stateDir]);
    const { cardNo } = await issueCard(sys.http, { balance: 5000 });
    const script = path.join(stateDir, 'pos-day.json');
    await writeFile(script, JSON.stringify({ steps: [{ op: 'purchase', card: cardNo, amount: 1200 }, { op: 'balance', card: cardNo }] }));
    const out = await run(process.execPath, [
      '--import', 'tsx', 'terminals/pos/main.ts',
      '--terminal', pos.terminalId, '--script', script, '--host', '127.0.0.1', '--port', '1', '--tls-port', String(sys.pki.isoTlsPort),
      '--state-dir', stateDir, '--mak', pos.mak, '--tpk', pos.tpk, '--tmk', pos.tmk, '--merchant', 'M0000000000001',
    ]);
    const summary = JSON.parse(out.stdout.split('\n').find((l) => l.startsWith('SUMMARY '))!.slice('SUMMARY '.length)) as { approved: number; steps: { op: string; code: string }[] };
    expect(summary.steps.map((s) => s.code)).toEqual(['00', '00']);
    expect(await purse(cardNo)).toBe(3800);
  });
});

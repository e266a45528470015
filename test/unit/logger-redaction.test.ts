// What is logged and what never is (docs/security.md): errors keep their message and stack; PINs,
// PIN blocks, keys, tokens and full card numbers never reach a log line, wherever they sit.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger('debug', sink), lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const pan = '6200900000000014';

describe('logger', () => {
  it('logs an error with its type, message and stack (not "err":{}), card numbers masked', () => {
    const { log, parsed } = capture();
    const error = new Error(`connect ECONNREFUSED while loading card ${pan}`);
    log.error({ err: error }, 'request failed');
    const [line] = parsed();
    const err = line!.err as Record<string, unknown>;
    expect(err.type).toBe('Error');
    expect(err.message).toBe('connect ECONNREFUSED while loading card 6200********0014');
    expect(String(err.stack)).toContain('logger-redaction.test.ts');
    expect(String(err.stack)).not.toContain(pan);
  });

  it('keeps the cause, an error\'s code and a nested error, and drops driver arguments', () => {
    const { log, parsed } = capture();
    const cause = new Error('socket closed');
    const error = Object.assign(new Error('query failed', { cause }), { code: 'ECONNRESET', command: { name: 'hget', args: [pan] }, parameters: [pan, '123456'] });
    log.warn({ err: error, detail: { inner: new TypeError('bad') } }, 'x');
    const [line] = parsed();
    const err = line!.err as Record<string, unknown>;
    expect(err.code).toBe('ECONNRESET');
    expect(JSON.stringify(err)).toContain('socket closed');
    expect(err.command).toBeUndefined();
    expect(err.parameters).toBeUndefined();
    expect((line!.detail as { inner: { message: string } }).inner.message).toBe('bad');
  });

  it('redacts PINs, PIN blocks, keys, tokens and the authorization header at any of the usual places', () => {
    const { log, lines } = capture();
    const secrets = { pin: '864209', pinBlock: '0412AC89ABCDEF01', mak: '0123456789ABCDEF0123456789ABCDEF', apiKey: 'cck_secretsecret', token: 'eyJhbGciOi.x.y' };
    log.info({ ...secrets }, 'top level');
    log.info({ body: { ...secrets, cardNo: pan } }, 'in a body');
    log.info({ req: { headers: { authorization: 'Bearer cck_secretsecret' } } }, 'in headers');
    log.info({ terminal: { ...secrets } }, 'one level down');
    const text = lines.join('');
    for (const value of [...Object.values(secrets), pan]) expect(text).not.toContain(value);
    expect(text).toContain('[redacted]');
  });

  it('masks card numbers in messages, in strings nested in objects and arrays, and in error messages', () => {
    const { log, lines } = capture();
    log.info(`card ${pan} tapped`);
    log.info({ url: `/v1/cards/${pan}/balance`, list: [`a ${pan}`], deep: { a: { b: { c: pan } } } }, 'x');
    log.error({ err: new Error(`declined ${pan}`) }, 'y');
    const text = lines.join('');
    expect(text).not.toContain(pan);
    expect(text).toContain('6200********0014');
  });
});

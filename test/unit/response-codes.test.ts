// The one response-code table (src/domain/codes.ts): every code a gate script can answer is in it,
// and the HTTP statuses it gives are those the routes answered with their literal statuses before.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Code, codeMeaning, isResponseCode, responseCodes, type ResponseCode } from '../../src/domain/codes.js';

const luaDir = path.resolve(import.meta.dirname, '../../src/adapters/redis/lua');

/** Every quoted two-digit code a script returns in a reply table ({'DECLINE', '51'} and the like). */
function luaCodes(): string[] {
  const found = new Set<string>();
  for (const file of readdirSync(luaDir).filter((f) => f.endsWith('.lua'))) {
    const text = readFileSync(path.join(luaDir, file), 'utf8').replace(/--.*$/gm, '');
    for (const m of text.matchAll(/return\s*\{[^}]*'([0-9]{2})'/g)) found.add(m[1]!);
  }
  return [...found].sort();
}

describe('the response-code table', () => {
  it('holds every code of DESIGN §4 once, with its meaning', () => {
    expect(Object.keys(responseCodes).sort()).toEqual(Object.values(Code).sort());
    for (const [code, entry] of Object.entries(responseCodes)) expect(codeMeaning[code as ResponseCode]).toBe(entry.meaning);
  });

  it('holds every code the gate scripts return', () => {
    const codes = luaCodes();
    expect(codes).toEqual(expect.arrayContaining(['41', '43', '51', '54', '61']));
    for (const code of codes) expect(isResponseCode(code), `lua code ${code}`).toBe(true);
    // The gate's codes are business results: answered HTTP 200 with approved:false.
    for (const code of codes) expect(responseCodes[code as ResponseCode].authorization).toBe('result');
  });

  it('gives the HTTP statuses the routes answered before', () => {
    const before: [where: string, code: ResponseCode, status: number][] = [
      ['outcome: an id reused with other content', '94', 409],
      ['outcome: ledger overload', '91', 503],
      ['POST /v1/refunds without a terminal', '58', 403],
      ['cards: a citizen reading another card', '57', 403],
      ['cards: a terminal not allowed to read', '58', 403],
      ['topup-orders: create with an invalid amount', '13', 400],
      ['topup-orders: create with an invalid card number', '14', 400],
      ['topup-orders: too many open orders', '65', 429],
      ['topup-orders: confirmed by another confirmer', '94', 409],
      ['topup-orders: no such order', '25', 404],
      ['auth: missing or invalid token', '63', 401],
      ['auth: call not open to the caller', '58', 403],
      ['app: malformed request', '30', 400],
      ['app: overloaded or a dependency down', '91', 503],
      ['app: internal error', '96', 500],
      ['app: no route', '12', 404],
    ];
    for (const [where, code, status] of before) expect(responseCodes[code].httpStatus, where).toBe(status);
  });

  it('on an authorization call, only 91 and 94 are problems; every other code is a 200 answer', () => {
    const problems = Object.entries(responseCodes).filter(([, e]) => e.authorization === 'problem').map(([c]) => c);
    expect(problems.sort()).toEqual(['91', '94']);
  });
});

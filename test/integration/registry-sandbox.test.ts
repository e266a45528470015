// The fare-policy sandbox against real PostgreSQL and Redis: a day of real taps through the API,
// re-rated under a draft that raises every bus fare by 1 yuan; the reported revenue change equals
// the change computed here by hand from the taps table, and nothing in the ledger moved.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSystem, type TestSystem } from '../support/system.js';
import { admin, issueCard, type RegisteredTerminal } from '../support/fixtures.js';
import { at, bus, day, gate, tap } from './transit-helpers.js';
import { fixedClock } from '../../src/platform/clock.js';

let sys: TestSystem;
let b2: RegisteredTerminal;
let b906: RegisteredTerminal;
let in108: RegisteredTerminal;
let out205: RegisteredTerminal;

const demo = JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')) as { bus: { routes: { fare: number }[] } } & Record<string, unknown>;
const raiseBusFen = 100;
const draft = { ...structuredClone(demo), version: 'draft-bus-plus-1-yuan', bus: { ...demo.bus, routes: demo.bus.routes.map((r) => ({ ...r, fare: r.fare + raiseBusFen })) } };
/** Concession percent of the base fare per card type at the (off-peak) times tapped below (demo policy). */
const percentOf: Record<string, number> = { adult: 100, student: 50, senior: 0, disabled: 0 };

type Row = Record<string, unknown> & { change: number };
interface SandboxResult {
  revenue: { inForce: number; draft: number; change: number };
  charged: number;
  byOperator: (Row & { operatorId: string })[];
  byRoute: (Row & { routeId: string })[];
  byCardType: (Row & { cardType: string })[];
  byDistrict: (Row & { district: string })[];
  perCard: { more: number; less: number; same: number; largestChanges: (Row & { card: string })[] };
}

async function ledgerSnapshot(): Promise<unknown> {
  const r = await sys.pool.query(
    `SELECT (SELECT count(*)::int FROM transfers) AS transfers, (SELECT coalesce(sum(amount), 0)::text FROM transfers) AS moved,
            (SELECT string_agg(account_id || ':' || balance, ',' ORDER BY account_id) FROM accounts) AS balances,
            (SELECT count(*)::int FROM taps) AS taps`,
  );
  return r.rows[0];
}

async function runJob(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await sys.http.inject({ method: 'POST', url: '/v1/admin/fare-sandbox', headers: admin, payload: body });
  expect(res.statusCode, res.body).toBe(202);
  const { jobId } = res.json() as { jobId: string };
  for (let i = 0; i < 200; i++) {
    const job = await sys.http.inject({ method: 'GET', url: `/v1/admin/fare-sandbox/${jobId}`, headers: admin });
    expect(job.statusCode).toBe(200);
    const j = job.json();
    if (j.state === 'completed' || j.state === 'failed') return j;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('sandbox job did not finish');
}

beforeAll(async () => {
  // The evening of the day tapped: taps older than the offline window are refused.
  sys = await createTestSystem({ clock: fixedClock(new Date(`${day}T23:00:00+08:00`)) });
  b2 = await bus(sys.http, 'B2');
  b906 = await bus(sys.http, 'B906');
  in108 = await gate(sys.http, 'L1-08');
  out205 = await gate(sys.http, 'L2-05');
  const cards = {
    a: await issueCard(sys.http, { balance: 5000 }),
    b: await issueCard(sys.http, { balance: 5000 }),
    c: await issueCard(sys.http, { balance: 5000 }),
    student: await issueCard(sys.http, { balance: 5000, cardType: 'student' }),
    senior: await issueCard(sys.http, { balance: 5000, cardType: 'senior' }),
    metroOnly: await issueCard(sys.http, { balance: 5000 }),
  };
  const taps: [RegisteredTerminal, string, string, ('in' | 'out')?][] = [
    [b2, cards.a.cardNo, '08:00'],
    [b906, cards.a.cardNo, '12:00'],
    [b2, cards.b.cardNo, '09:00'],
    [in108, cards.b.cardNo, '14:00', 'in'],
    [out205, cards.b.cardNo, '14:25', 'out'],
    [b906, cards.c.cardNo, '10:30'],
    [b2, cards.c.cardNo, '10:50'], // a transfer within the window: the discount is a fixed amount
    [b2, cards.student.cardNo, '10:00'],
    [b906, cards.student.cardNo, '15:00'],
    [b2, cards.senior.cardNo, '10:00'],
    [in108, cards.metroOnly.cardNo, '11:00', 'in'],
    [out205, cards.metroOnly.cardNo, '11:20', 'out'],
  ];
  for (const [terminal, cardNo, hhmm, direction] of taps) {
    const answer = await tap(sys.http, terminal, cardNo, at(hhmm), direction ? { direction } : {});
    expect(answer, `${hhmm} ${JSON.stringify(answer)}`).toMatchObject({ approved: true });
  }
  // One rider lives in Jinshui (registry), the others are unknown to the registry.
  const person = await sys.http.inject({ method: 'POST', url: '/v1/registry/people', headers: admin, payload: { idType: 'passport', idNumber: 'P99887766', citizenId: String(cards.a.citizenId), fields: { name: 'Rider A', district: 'Jinshui' }, reason: 'test' } });
  expect(person.statusCode, person.body).toBe(201);
});
afterAll(async () => sys.destroy());

describe('fare-policy sandbox', () => {
  it('reports the exact revenue change of a 1-yuan bus rise computed by hand from the day\'s taps, moving nothing', async () => {
    const busTaps = await sys.pool.query<{ card_no: string; card_type: string; route_id: string }>(
      `SELECT t.card_no, c.card_type, t.route_id FROM taps t JOIN cards c USING (card_no) WHERE t.business_date = $1 AND t.status = 'accepted' AND t.mode = 'bus'`,
      [day],
    );
    expect(busTaps.rows.length).toBe(8);
    const byHand = busTaps.rows.reduce((sum, t) => sum + (raiseBusFen * percentOf[t.card_type]!) / 100, 0);
    const byRouteByHand = (routeId: string) => busTaps.rows.filter((t) => t.route_id === routeId).reduce((sum, t) => sum + (raiseBusFen * percentOf[t.card_type]!) / 100, 0);
    const charged = await sys.pool.query<{ fen: string }>(`SELECT sum(fare)::text AS fen FROM taps WHERE business_date = $1 AND status = 'accepted'`, [day]);
    const before = await ledgerSnapshot();

    const job = await runJob({ businessDate: day, policy: draft });
    expect(job).toMatchObject({ state: 'completed', progress: 100 });
    const result = job.result as SandboxResult;
    expect(byHand).toBe(600); // 5 adult bus taps × 100 + 2 student × 50 + 1 senior × 0
    expect(result.revenue.change).toBe(byHand);
    expect(result.revenue.inForce).toBe(Number(charged.rows[0]!.fen));
    expect(result.revenue.draft).toBe(Number(charged.rows[0]!.fen) + byHand);
    expect(result.charged).toBe(Number(charged.rows[0]!.fen));
    expect(result).toMatchObject({ policyInForce: 'demo-2026-01', draftVersion: 'draft-bus-plus-1-yuan', cards: 6, taps: 12, draftDeclinedTaps: 0 });
    const op = (id: string) => result.byOperator.find((o) => o.operatorId === id)!;
    expect(op('ZZBUS').change).toBe(byHand);
    expect(op('ZZMETRO').change).toBe(0);
    const route = (id: string) => result.byRoute.find((r) => r.routeId === id)!;
    expect(route('B2').change).toBe(byRouteByHand('B2'));
    expect(route('B906').change).toBe(byRouteByHand('B906'));
    expect(route('metro')).toMatchObject({ operatorId: 'ZZMETRO', change: 0 });
    const type = (t: string) => result.byCardType.find((r) => r.cardType === t)!;
    expect(type('student')).toMatchObject({ cards: 1, change: 100 });
    expect(type('senior')).toMatchObject({ cards: 1, change: 0 });
    expect(type('adult')).toMatchObject({ cards: 4, change: 500 });
    expect(result.byDistrict.find((d) => d.district === 'Jinshui')).toMatchObject({ cards: 1, change: 200 });
    expect(result.perCard).toMatchObject({ more: 4, less: 0, same: 2 });
    expect(result.perCard.largestChanges[0]).toMatchObject({ change: 200 });
    expect(result.perCard.largestChanges[0]!.card).toMatch(/\*/);

    expect(await ledgerSnapshot()).toEqual(before);
  });

  it('compares the policy in force with itself as no change', async () => {
    const job = await runJob({ businessDate: day, policy: demo });
    expect((job.result as { revenue: { change: number }; perCard: { same: number } }).revenue.change).toBe(0);
    expect((job.result as { perCard: { same: number } }).perCard.same).toBe(6);
  });

  it('refuses a broken draft naming the path, and callers other than admin', async () => {
    const broken = await sys.http.inject({ method: 'POST', url: '/v1/admin/fare-sandbox', headers: admin, payload: { businessDate: day, policy: { ...demo, bus: { routes: [{ routeId: 'B2', operatorId: 'ZZBUS', fare: -1 }] } } } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().detail).toContain('bus.routes[0]');
    const anon = await sys.http.inject({ method: 'POST', url: '/v1/admin/fare-sandbox', payload: { businessDate: day, policy: demo } });
    expect(anon.statusCode).toBe(401);
    const unknown = await sys.http.inject({ method: 'GET', url: '/v1/admin/fare-sandbox/5b7c3c5e-0000-4000-8000-000000000000', headers: admin });
    expect(unknown.statusCode).toBe(404);
  });

  it('has a view in the operations console that compares two drafts', async () => {
    const page = await sys.http.inject({ method: 'GET', url: '/console' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('id="sandbox-form"');
    expect(page.body).toContain('/ui/js/sandbox.js');
    const script = await sys.http.inject({ method: 'GET', url: '/ui/js/sandbox.js' });
    expect(script.statusCode).toBe(200);
    expect(script.body).toContain('/v1/admin/fare-sandbox');
  });
});

// Scenario `taps`: POST /v1/taps on random seeded cards, tappedAt = now. Three taps in four are bus
// boardings on one of `busValidatorsMax` validators (routes B2, B906, BRT1: many become transfer
// or capped rides, i.e. a tap row with no transfer); one in four is a taxi fare (a meter amount,
// always charged). Spreading the boardings over many validators keeps anti-passback (65, same card
// on the same validator within 300 s) to a few per cent when the same card comes back often.
import { randomInt } from 'node:crypto';
import { classifyMoneyAnswer, type Scenario } from '../lib/scenario.js';
import { loadTerminalId } from './payments.js';

export const busValidatorsMax = 64;
export const taxiMetersMax = 8;
/** Taxi meter amounts, fen. */
export const meterFenMin = 1_000;
export const meterFenMax = 5_000;
const routes = ['B2', 'B906', 'BRT1'] as const;

export interface TapsState {
  bus: string[];
  taxi: string[];
}

async function register(admin: Parameters<Scenario['setup']>[0], prefix: string, body: Record<string, unknown>): Promise<string> {
  const terminalId = loadTerminalId(prefix);
  const res = await admin.post('/v1/admin/terminals', { terminalId, ...body });
  if (res.status !== 201) throw new Error(`registering terminal ${terminalId}: HTTP ${res.status} ${JSON.stringify(res.json)}`);
  return (res.json as { apiKey: string }).apiKey;
}

export const tapsScenario: Scenario<TapsState> = {
  name: 'taps',
  description: `POST /v1/taps, random seeded cards: 3/4 bus boardings on ${busValidatorsMax} validators (B2, B906, BRT1), 1/4 taxi fares ${meterFenMin}..${meterFenMax} fen`,
  targets: ['core', 'external'],
  async setup(admin) {
    const bus: string[] = [];
    for (let i = 0; i < busValidatorsMax; i++) bus.push(await register(admin, 'LB', { kind: 'bus', operatorId: 'ZZBUS', routeId: routes[i % routes.length] }));
    const taxi: string[] = [];
    for (let i = 0; i < taxiMetersMax; i++) taxi.push(await register(admin, 'LX', { kind: 'taxi', operatorId: 'ZZTAXI' }));
    return { bus, taxi };
  },
  workload(state, ctx) {
    const http = ctx.target.http;
    const busHeaders = state.bus.map((key) => ({ Authorization: `Bearer ${key}` }));
    const taxiHeaders = state.taxi.map((key) => ({ Authorization: `Bearer ${key}` }));
    return {
      async fire(seq) {
        const isTaxi = seq % 4 === 3;
        const headers = isTaxi ? taxiHeaders[randomInt(taxiHeaders.length)]! : busHeaders[randomInt(busHeaders.length)]!;
        const body = JSON.stringify({
          tapId: `${ctx.runId}-${seq}`,
          cardNo: ctx.cards.pick(),
          tappedAt: new Date().toISOString(),
          ...(isTaxi ? { amount: randomInt(meterFenMin, meterFenMax + 1) } : {}),
        });
        try {
          const answer = await http.request('POST', '/v1/taps', headers, body);
          return classifyMoneyAnswer(answer.status, answer.body);
        } catch (error) {
          return { kind: 'error', reason: (error as Error).message };
        }
      },
    };
  },
};

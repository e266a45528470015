// Scenario `payments`: POST /v1/payments from one registered retail POS terminal, on uniformly
// random cards of the seeded set, with unique paymentIds and small amounts (below the no-PIN limit).
import { randomBytes } from 'node:crypto';
import { classifyMoneyAnswer, type Scenario } from '../lib/scenario.js';

export const retailMerchantId = 'M0000000000001';
/** Amounts 1..999 fen: far below the no-PIN limit (30000) and the daily limit (300000). */
export const paymentAmountMaxFen = 999;

export interface PaymentsState {
  terminalId: string;
  apiKey: string;
}

/** `LT` + 6 random letters/digits: a fresh terminal per run, no clash with earlier runs. */
export function loadTerminalId(prefix = 'LT'): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(8 - prefix.length);
  let id = prefix;
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}

export const paymentsScenario: Scenario<PaymentsState> = {
  name: 'payments',
  description: 'POST /v1/payments, one retail POS, random seeded cards, amounts 1..999 fen',
  targets: ['core', 'naive', 'external'],
  async setup(admin) {
    const terminalId = loadTerminalId();
    const res = await admin.post('/v1/admin/terminals', { terminalId, kind: 'pos', merchantId: retailMerchantId });
    if (res.status !== 201) throw new Error(`registering terminal ${terminalId}: HTTP ${res.status} ${JSON.stringify(res.json)}`);
    const body = res.json as { apiKey: string };
    return { terminalId, apiKey: body.apiKey };
  },
  ledgerCheck: (state) => ({ opKind: 'payment', terminalId: state.terminalId }),
  workload(state, ctx) {
    const headers = { Authorization: `Bearer ${state.apiKey}` };
    const http = ctx.target.http;
    return {
      async fire(seq) {
        const body = JSON.stringify({
          paymentId: `${ctx.runId}-${seq}`,
          cardNo: ctx.cards.pick(),
          amount: 1 + Math.floor(Math.random() * paymentAmountMaxFen),
        });
        try {
          const answer = await http.request('POST', '/v1/payments', headers, body);
          return classifyMoneyAnswer(answer.status, answer.body);
        } catch (error) {
          return { kind: 'error', reason: (error as Error).message };
        }
      },
    };
  },
};

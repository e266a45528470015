// Scenario `iso`: ISO 8583 0200 purchases over 50 pipelined TCP connections to the core's ISO port,
// from one registered retail POS, MACed under its MAK, on random seeded cards (docs/iso8583.md).
import { IsoClient } from '../../terminals/pos/client.js';
import { encodeMessageWithMac, fieldText, type FieldValue } from '../../src/adapters/iso8583/codec.js';
import { retailMac } from '../../src/adapters/iso8583/mac.js';
import { amountField, merchantField, transmissionDateTime } from '../../src/adapters/iso8583/fields.js';
import type { Outcome, Scenario } from '../lib/scenario.js';
import { loadTerminalId, paymentAmountMaxFen, retailMerchantId } from './payments.js';

/** Connections the workload opens; requests are spread over them round-robin and pipelined. */
export const isoConnections = 50;
const stanMax = 999_999;

/**
 * Not `terminalId`: the runner's durability check counts payments whose op_id starts with the
 * phase's runId, and an ISO payment's op_id is its key `terminal:stan:F7` (the check is skipped).
 */
export interface IsoState {
  isoTerminalId: string;
  mak: string;
}

export function isoOutcome(code: string | undefined): Outcome {
  if (code === '00') return { kind: 'approved' };
  if (code === '91') return { kind: 'overload', code };
  if (code === '96' || code === undefined) return { kind: 'error', reason: `code ${code ?? 'missing'}` };
  return { kind: 'declined', code };
}

export const isoScenario: Scenario<IsoState> = {
  name: 'iso',
  description: `ISO 8583 0200 purchases, ${isoConnections} pipelined TCP connections, one retail POS, random seeded cards, amounts 1..999 fen`,
  targets: ['core'],
  // ROLE=api (the runner's default) does not open the ISO port.
  serverEnv: { ROLE: 'iso' },
  async setup(admin) {
    const terminalId = loadTerminalId('LI');
    const res = await admin.post('/v1/admin/terminals', { terminalId, kind: 'pos', merchantId: retailMerchantId });
    if (res.status !== 201) throw new Error(`registering terminal ${terminalId}: HTTP ${res.status} ${JSON.stringify(res.json)}`);
    return { isoTerminalId: terminalId, mak: (res.json as { mak: string }).mak };
  },
  workload(state, ctx) {
    const port = ctx.target.isoPort;
    if (!port) throw new Error('scenario iso needs the target ISO port');
    const mak = Buffer.from(state.mak, 'hex');
    let connecting: Promise<IsoClient[]> | null = null;
    const connections = () => (connecting ??= Promise.all(Array.from({ length: isoConnections }, () => IsoClient.connect(ctx.target.host, port))));
    return {
      async fire(seq) {
        try {
          const clients = await connections();
          const client = clients[seq % clients.length]!;
          // STAN + F7 + terminal is the duplicate key: a STAN repeats only after 999,999 requests, a
          // later second by then. The terminal is fresh per setup, so runs never collide.
          const stan = String((seq % stanMax) + 1).padStart(6, '0');
          const fields = new Map<number, FieldValue>([
            [2, ctx.cards.pick()],
            [3, '000000'],
            [4, amountField(BigInt(1 + Math.floor(Math.random() * paymentAmountMaxFen)))],
            [7, transmissionDateTime(new Date())],
            [11, stan],
            [41, state.isoTerminalId],
            [42, merchantField(retailMerchantId)],
            [49, '156'],
          ]);
          const bytes = encodeMessageWithMac({ mti: '0200', fields }, (input) => retailMac(mak, input));
          const answer = await client.requestBytes(bytes, stan);
          return isoOutcome(fieldText(answer, 39));
        } catch (error) {
          return { kind: 'error', reason: (error as Error).message };
        }
      },
      async close() {
        if (connecting) for (const c of await connecting.catch(() => [])) c.close();
      },
    };
  },
};

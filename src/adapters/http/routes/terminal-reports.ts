// Terminals report their own day for reconciliation (DESIGN §8, §14): POST /v1/terminals/daily-totals.
// A validator sends its totals (and optionally the tap ids it took); a POS sends, after a 0500
// mismatch, the list of its transactions. Nothing moves; reconcile-terminals compares.
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Pool } from '../../postgres/db.js';
import { chargedFares, recordDailyReport } from '../../postgres/terminal-reports.js';
import { allow, terminalOf } from '../auth.js';
import { ClientId } from '../schemas.js';
import { sendProblem } from '../problem.js';

/** Transactions one report may list (a validator's busiest day is well below). */
export const reportedTxnsMax = 20_000;
/** A count or amount larger than terminal_totals holds (int4 count) is refused. */
const countMax = 2_147_483_647;
const signedFenMax = 1_000_000_000_000;

const Reported = Type.Union([
  ClientId,
  Type.Object(
    { tapId: ClientId, amount: Type.Integer({ minimum: -signedFenMax, maximum: signedFenMax, description: 'what the terminal says it charged, fen (credit to the card negative)' }) },
    { additionalProperties: false },
  ),
]);

const Body = Type.Object(
  {
    businessDate: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD business date (04:00–04:00 Shanghai)' }),
    count: Type.Integer({ minimum: 0, maximum: countMax, description: 'charged transactions of the day (validators: taps with a fare)' }),
    amount: Type.Integer({ minimum: 0, maximum: signedFenMax, description: 'their sum, fen' }),
    tapIds: Type.Optional(
      Type.Array(Reported, {
        maxItems: reportedTxnsMax,
        description: 'the transactions (tap ids, or payment/op ids for a POS), with the amount the terminal charged; a bare id counts at the fare the ledger charged for it',
      }),
    ),
  },
  { additionalProperties: false },
);

function realDate(text: string): boolean {
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

export const terminalReportRoutes: FastifyPluginAsyncTypebox<{ pool: Pool }> = async (app, { pool }) => {
  app.post(
    '/v1/terminals/daily-totals',
    { preValidation: allow('terminal'), schema: { tags: ['terminals'], body: Body, response: { 200: Type.Object({ recorded: Type.Boolean(), transactions: Type.Integer() }) } } },
    async (request, reply) => {
      const terminal = terminalOf(request)!;
      const b = request.body;
      if (!realDate(b.businessDate)) return sendProblem(reply, 400, '30', `businessDate ${b.businessDate} is not a real date`);
      if (!['bus', 'gate', 'taxi', 'pos'].includes(terminal.kind)) return sendProblem(reply, 403, '58', `a ${terminal.kind} terminal does not report daily totals`);
      const ids = b.tapIds ?? null;
      const references = ids?.map((x) => (typeof x === 'string' ? x : x.tapId)) ?? [];
      if (new Set(references).size !== references.length) return sendProblem(reply, 400, '30', 'a transaction is listed twice');
      const bare = ids?.filter((x): x is string => typeof x === 'string') ?? [];
      const fares = await chargedFares(pool, terminal.terminalId, bare);
      // A bare id counts at the fare the ledger charged; a free ride (tap-in, capped) has nothing to
      // reconcile and is left out; an id the ledger does not know is kept (missing, at 0).
      const transactions =
        ids
          ?.filter((x) => typeof x !== 'string' || fares.get(x) !== 0n)
          .map((x) => (typeof x === 'string' ? { reference: x, amountFen: fares.get(x) ?? 0n } : { reference: x.tapId, amountFen: BigInt(x.amount) })) ?? null;
      // A POS reports its totals by ISO 0500; here it only sends its list.
      const totals = terminal.kind === 'pos' ? null : { count: b.count, amountFen: BigInt(b.amount) };
      await recordDailyReport(pool, { terminalId: terminal.terminalId, businessDate: b.businessDate, totals, transactions });
      return reply.code(200).send({ recorded: true, transactions: transactions?.length ?? 0 });
    },
  );
};

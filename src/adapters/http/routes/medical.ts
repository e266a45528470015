// Medical calls of a hospital or pharmacy POS (DESIGN §5): presettle, settle and cancel a claim.
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { ClaimRequest, MedicalService } from '../../../app/medical.js';
import { itemCodeMaxLength, itemsMax } from '../../../domain/medical/index.js';
import { allow, terminalOf } from '../auth.js';
import { AmountFen, ClientId, Code, fen } from '../schemas.js';
import { outcomeReply } from './outcome.js';

const LooseCardNo = Type.String({ pattern: '^[0-9]{1,19}$', description: 'card number (unknown or Luhn-invalid numbers are declined with 14)' });

const Item = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: itemCodeMaxLength, description: "the hospital's charge code" }),
    amount: AmountFen,
    eligible: Type.Boolean({ description: 'covered by the social-security catalogue' }),
  },
  { additionalProperties: false },
);

const claimFields = {
  claimId: ClientId,
  cardNo: LooseCardNo,
  items: Type.Array(Item, { minItems: 1, maxItems: itemsMax }),
  usePurse: Type.Optional(Type.Boolean({ description: 'pay what the medical account cannot from the purse (default false)' })),
};
const ClaimBody = Type.Object(claimFields, { additionalProperties: false });

const fundFen = Type.Integer({ description: 'paid by the pooled medical fund, fen' });
const personalFen = Type.Integer({ description: "paid from the card's medical account, fen" });
const purseFen = Type.Integer({ description: "paid from the card's purse, fen" });
const cashFen = Type.Integer({ description: 'to be paid in cash at the counter, fen' });
const totalFen = Type.Integer({ description: 'sum of the items, fen' });

// Computed split; `approved: false` with a code only when the call is refused (58, 14, 41, 43, 54).
const PresettleReply = Type.Object({
  fund: Type.Optional(fundFen),
  personal: Type.Optional(personalFen),
  purse: Type.Optional(purseFen),
  cash: Type.Optional(cashFen),
  total: Type.Optional(totalFen),
  approved: Type.Optional(Type.Boolean()),
  code: Type.Optional(Code),
});

const SettleReply = Type.Object({
  approved: Type.Boolean(),
  code: Code,
  fund: Type.Optional(fundFen),
  personal: Type.Optional(personalFen),
  purse: Type.Optional(purseFen),
  cash: Type.Optional(cashFen),
  total: Type.Optional(totalFen),
  transactionId: Type.Optional(Type.String({ description: 'first ledger transfer; absent when nothing moved (all cash)' })),
});

function claimRequest(b: Static<typeof ClaimBody>): ClaimRequest {
  return {
    claimId: b.claimId,
    cardNo: b.cardNo,
    usePurse: b.usePurse ?? false,
    items: b.items.map((i) => ({ code: i.code, amountFen: BigInt(i.amount), eligible: i.eligible })),
  };
}

export const medicalRoutes: FastifyPluginAsyncTypebox<{ medical: MedicalService }> = async (app, { medical }) => {
  app.post(
    '/v1/medical/presettle',
    {
      preValidation: allow('terminal'),
      schema: { tags: ['medical'], body: ClaimBody, response: { 200: PresettleReply } },
    },
    async (request, reply) => {
      const outcome = await medical.presettle(terminalOf(request)!, claimRequest(request.body));
      if (outcome.kind === 'declined') return reply.code(200).send({ approved: false, code: outcome.code });
      const s = outcome.split;
      return reply.code(200).send({ fund: fen(s.fund), personal: fen(s.personal), purse: fen(s.purse), cash: fen(s.cash), total: fen(s.total) });
    },
  );

  app.post(
    '/v1/medical/settle',
    {
      config: { operation: 'medical-settle' },
      preValidation: allow('terminal'),
      schema: { tags: ['medical'], body: ClaimBody, response: { 200: SettleReply } },
    },
    async (request, reply) => {
      const outcome = await medical.settle(terminalOf(request)!, claimRequest(request.body));
      return outcomeReply(reply, outcome, (r) => ({
        fund: fen(r.fund as string),
        personal: fen(r.personal as string),
        purse: fen(r.purse as string),
        cash: fen(r.cash as string),
        total: fen(r.total as string),
        ...(r.transactionId !== undefined ? { transactionId: String(r.transactionId) } : {}),
      }));
    },
  );

  app.post(
    '/v1/medical/:claimId/cancel',
    {
      config: { operation: 'medical-cancel' },
      preValidation: allow('terminal'),
      schema: {
        tags: ['medical'],
        params: Type.Object({ claimId: ClientId }),
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 200: Type.Object({ approved: Type.Boolean(), code: Code }) },
      },
    },
    async (request, reply) => {
      const outcome = await medical.cancel(terminalOf(request)!, request.params.claimId);
      return outcomeReply(reply, outcome, () => ({}));
    },
  );
};

// The naive baseline of the load test: the same POST /v1/payments contract, but one PostgreSQL
// transaction per payment (lock the purse row, check and debit it, insert the transfer, credit the
// merchant's payable, COMMIT) with no Redis and no batching. Same schema and data as the core.
//   DATABASE_URL=… HTTP_PORT=… node --import tsx loadtest/naive-server.ts
import Fastify from 'fastify';
import pg from 'pg';
import { createHash } from 'node:crypto';
import { businessDateOf } from '../src/domain/business-day.js';
import { isValidCardNo } from '../src/domain/card-number.js';

export const naivePoolMax = Number(process.env.NAIVE_POOL_MAX ?? '16');
export const perTransactionMaxFen = 100_000;

interface Terminal {
  terminalId: string;
  merchantId: string;
  payableId: string;
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/citizencard_bench', max: naivePoolMax });
pool.on('error', () => undefined);
const terminals = new Map<string, Terminal | null>();

async function terminalOf(authorization: string | undefined): Promise<Terminal | null> {
  if (!authorization?.startsWith('Bearer ')) return null;
  const key = authorization.slice(7).trim();
  const cached = terminals.get(key);
  if (cached !== undefined) return cached;
  const hash = createHash('sha256').update(key).digest();
  const r = await pool.query<{ terminal_id: string; merchant_id: string; payable_id: string }>(
    `SELECT t.terminal_id, t.merchant_id, a.account_id::text AS payable_id
       FROM terminals t JOIN accounts a ON a.kind = 'payable' AND a.owner_id = t.merchant_id
      WHERE t.api_key_hash = $1 AND t.kind = 'pos' AND t.status = 'active'`,
    [hash],
  );
  const row = r.rows[0];
  const terminal = row ? { terminalId: row.terminal_id, merchantId: row.merchant_id, payableId: row.payable_id } : null;
  terminals.set(key, terminal);
  return terminal;
}

type Answer = { approved: boolean; code: string; transactionId?: string; authCode?: string; balance?: number };

async function pay(t: Terminal, paymentId: string, cardNo: string, amount: number): Promise<Answer | 'conflict'> {
  const requestHash = createHash('sha256').update(`${cardNo}|${amount}|${t.terminalId}`).digest('base64url').slice(0, 22);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const card = await client.query<{ account_id: string; balance: string; status: string; expired: boolean }>(
      `SELECT a.account_id::text, a.balance::text, c.status, c.expires_on < current_date AS expired
         FROM cards c JOIN accounts a ON a.kind = 'purse' AND a.owner_id = c.card_no
        WHERE c.card_no = $1 FOR UPDATE OF a`,
      [cardNo],
    );
    const row = card.rows[0];
    const decline = (code: string): Answer => ({ approved: false, code });
    if (!row) {
      await client.query('ROLLBACK');
      return decline('14');
    }
    if (row.status !== 'active' || row.expired) {
      await client.query('ROLLBACK');
      return decline(row.status === 'lost' ? '41' : row.status === 'blocked' ? '43' : '54');
    }
    const balance = BigInt(row.balance);
    if (balance < BigInt(amount)) {
      await client.query('ROLLBACK');
      return decline('51');
    }
    const inserted = await client.query<{ transfer_id: string }>(
      `INSERT INTO transfers (op_kind, op_id, leg, debit_account_id, credit_account_id, amount, card_no, terminal_id, business_date, request_hash, detail)
       VALUES ('payment', $1, 0, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (op_kind, op_scope, op_id, leg) DO NOTHING RETURNING transfer_id::text`,
      [paymentId, row.account_id, t.payableId, amount, cardNo, t.terminalId, businessDateOf(new Date()), requestHash,
        JSON.stringify({ merchantId: t.merchantId, amount: String(amount), purseAfter: String(balance - BigInt(amount)), medicalAfter: '0' })],
    );
    const transferId = inserted.rows[0]?.transfer_id;
    if (!transferId) {
      await client.query('ROLLBACK');
      const first = await pool.query<{ transfer_id: string; request_hash: string; detail: { purseAfter?: string } }>(
        `SELECT transfer_id::text, request_hash, detail FROM transfers WHERE op_kind = 'payment' AND op_id = $1 AND leg = 0`,
        [paymentId],
      );
      const f = first.rows[0];
      if (!f || f.request_hash !== requestHash) return 'conflict';
      return { approved: true, code: '00', transactionId: f.transfer_id, authCode: String(BigInt(f.transfer_id) % 1_000_000n).padStart(6, '0'), balance: Number(f.detail.purseAfter ?? 0) };
    }
    await client.query(`UPDATE accounts SET balance = balance - $2, updated_at = now() WHERE account_id = $1`, [row.account_id, amount]);
    // The merchant's payable is one hot row: every payment waits for the previous one's commit.
    await client.query(`UPDATE accounts SET balance = balance + $2, updated_at = now() WHERE account_id = $1`, [t.payableId, amount]);
    await client.query('COMMIT');
    return { approved: true, code: '00', transactionId: transferId, authCode: String(BigInt(transferId) % 1_000_000n).padStart(6, '0'), balance: Number(balance - BigInt(amount)) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

app.get('/health/ready', async () => {
  await pool.query('SELECT 1');
  return { status: 'ready' };
});

app.post(
  '/v1/payments',
  {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['paymentId', 'cardNo', 'amount'],
        properties: {
          paymentId: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' },
          cardNo: { type: 'string', pattern: '^[0-9]{1,19}$' },
          amount: { type: 'integer', minimum: 1, maximum: 1_000_000_000_000 },
          pinBlock: { type: 'string', pattern: '^[0-9A-Fa-f]{16}$' },
        },
      },
    },
  },
  async (request, reply) => {
    const terminal = await terminalOf(request.headers.authorization);
    if (!terminal) return reply.code(401).type('application/problem+json').send({ status: 401, code: '63' });
    const { paymentId, cardNo, amount } = request.body as { paymentId: string; cardNo: string; amount: number };
    if (!isValidCardNo(cardNo)) return { approved: false, code: '14' };
    if (amount > perTransactionMaxFen) return { approved: false, code: '13' };
    const answer = await pay(terminal, paymentId, cardNo, amount);
    if (answer === 'conflict') return reply.code(409).type('application/problem+json').send({ status: 409, code: '94' });
    return answer;
  },
);

const port = Number(process.env.HTTP_PORT ?? '8090');
await app.listen({ port, host: '127.0.0.1' });
const stop = async () => {
  await app.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

// The HTTP ceiling of the closed-loop benchmark: fastify with the same JSON body validation as the
// core's POST /v1/payments, answering the same shape of JSON and doing nothing else. What this
// sustains is what the HTTP stack alone can carry on the machine.
//   HTTP_PORT=… node --import tsx loadtest/closed/noop-server.ts
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
let seq = 0;

app.get('/health/ready', async () => ({ status: 'ready' }));

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
          cardNo: { type: 'string', pattern: '^[0-9]{16}$' },
          amount: { type: 'integer', minimum: 1, maximum: 1_000_000_000_000 },
        },
      },
    },
  },
  async (request) => {
    if (!request.headers.authorization?.startsWith('Bearer ')) return { approved: false, code: '58' };
    seq++;
    return { approved: true, code: '00', transactionId: String(seq), authCode: String(seq % 1_000_000).padStart(6, '0'), balance: 10_000 };
  },
);

const port = Number(process.env.HTTP_PORT ?? '8091');
await app.listen({ port, host: '127.0.0.1' });
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

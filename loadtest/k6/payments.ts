// k6 version of the load runner's `payments` scenario (loadtest/scenarios/payments.ts): one retail
// POS terminal paying on random seeded cards at a constant arrival rate, p99 < 20 ms required.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=2000 -e DURATION=60s -e CARDS=100000 loadtest/k6/payments.ts
// Cards are the seeded serial range (scripts/seed-cards.ts; the demo seed is CARDS=1000).
import http from 'k6/http';
import { check, fail } from 'k6';
import exec from 'k6/execution';
import type { Options } from 'k6/options';

const baseUrl = __ENV.BASE_URL ?? 'http://127.0.0.1:8080';
const adminToken = __ENV.ADMIN_TOKEN ?? 'dev-admin-token';
const rate = Number(__ENV.RATE ?? '1000');
const cards = Number(__ENV.CARDS ?? '100000');
const firstSerial = Number(__ENV.FIRST_SERIAL ?? '1');
const amountMaxFen = 999;

export const options: Options = {
  discardResponseBodies: false,
  scenarios: {
    payments: {
      executor: 'constant-arrival-rate',
      rate,
      timeUnit: '1s',
      duration: __ENV.DURATION ?? '60s',
      preAllocatedVUs: Number(__ENV.VUS ?? '100'),
      maxVUs: Number(__ENV.MAX_VUS ?? '400'),
      gracefulStop: '10s',
    },
  },
  thresholds: {
    'http_req_duration{scenario:payments}': ['p(99)<20', 'p(99.9)<50'],
    'http_req_failed{scenario:payments}': ['rate==0'],
    checks: ['rate==1'],
    // An arrival-rate executor that runs out of VUs drops iterations instead of queueing them:
    // a dropped iteration is load that was never offered, so the run must not pass with any.
    dropped_iterations: ['count==0'],
  },
};

/** Luhn check digit of a payload (same rule as src/domain/card-number.ts). */
function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let digit = payload.charCodeAt(payload.length - 1 - i) - 48;
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return (10 - (sum % 10)) % 10;
}

/** BIN 62009 + 10-digit serial + check digit (cardNoFromSerial). */
function cardNoFromSerial(serial: number): string {
  const payload = `62009${String(serial).padStart(10, '0')}`;
  return payload + String(luhnCheckDigit(payload));
}

interface SetupData {
  apiKey: string;
  runId: string;
}

export function setup(): SetupData {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let terminalId = 'K6';
  for (let i = 0; i < 6; i++) terminalId += alphabet[Math.floor(Math.random() * alphabet.length)];
  const res = http.post(`${baseUrl}/v1/admin/terminals`, JSON.stringify({ terminalId, kind: 'pos', merchantId: 'M0000000000001' }), {
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
  });
  if (res.status !== 201) fail(`registering terminal ${terminalId}: HTTP ${res.status}`);
  const body = res.json() as { apiKey?: string };
  if (!body.apiKey) fail('no apiKey in the registration answer');
  return { apiKey: body.apiKey as string, runId: `k6${Date.now().toString(36)}` };
}

export default function (data: SetupData): void {
  const serial = firstSerial + Math.floor(Math.random() * cards);
  const payload = JSON.stringify({
    paymentId: `${data.runId}-${exec.scenario.iterationInTest}`,
    cardNo: cardNoFromSerial(serial),
    amount: 1 + Math.floor(Math.random() * amountMaxFen),
  });
  const res = http.post(`${baseUrl}/v1/payments`, payload, {
    headers: { authorization: `Bearer ${data.apiKey}`, 'content-type': 'application/json' },
    tags: { name: 'POST /v1/payments' },
  });
  check(res, {
    'HTTP 200': (r) => r.status === 200,
    approved: (r) => r.status === 200 && (r.json() as { approved?: boolean }).approved === true,
  });
}

// The kiosk's cash acceptor (a stand-in for the hardware): after the citizen paid `amount` fen at the
// kiosk, it confirms the top-up order shown on the kiosk page with the kiosk terminal's own key.
//   npx tsx terminals/kiosk/main.ts --order <orderId> --amount <fen> [--terminal KIOSK001] [--key <apiKey>]
import { readerConfig } from '../lib/config.js';

const argv = process.argv.slice(2);
const take = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const [, value] = argv.splice(i, 2);
  return value;
};
const orderId = take('order');
const amount = take('amount');
if (!orderId || !/^[0-9a-f]{32}$/.test(orderId) || !amount || !/^[1-9]\d{0,11}$/.test(amount)) {
  console.error('usage: --order <32 hex characters, shown on the kiosk page> --amount <fen paid into the acceptor> [--terminal KIOSK001] [--key <apiKey>] [--server <url>]');
  process.exit(2);
}
const config = readerConfig(argv, 'KIOSK001');
// The confirmation is idempotent for this terminal: re-running after a lost answer moves nothing more.
const res = await fetch(`${config.server}/v1/topup-orders/${orderId}/confirm`, {
  method: 'POST',
  headers: { authorization: `Bearer ${config.apiKey}`, 'content-type': 'application/json' },
  body: JSON.stringify({ amount: Number(amount) }),
});
console.log(res.status, await res.text());
process.exit(res.ok ? 0 : 1);

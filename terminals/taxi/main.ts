// Taxi meter: `tap <cardNo> <amountFen>` at the end of a ride charges the meter amount (docs/terminals.md).
//   npx tsx terminals/taxi/main.ts --terminal TAXI0001 [--replay day.txt]
import { runReader } from '../lib/reader.js';

await runReader('taxi', process.argv.slice(2), 'TAXI0001');

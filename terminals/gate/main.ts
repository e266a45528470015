// Metro gate: `in <cardNo>` at the entry, `out <cardNo>` at the exit of the gate's station; the fare
// is charged at tap-out (docs/terminals.md).
//   npx tsx terminals/gate/main.ts --terminal GATE0111 [--replay day.txt]
import { runReader } from '../lib/reader.js';

await runReader('gate', process.argv.slice(2), 'GATE0111');

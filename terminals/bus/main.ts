// Bus validator: `tap <cardNo>` per boarding; the route is the one the terminal was registered with.
// Offline taps are queued on disk and uploaded when the link is back (docs/terminals.md).
//   npx tsx terminals/bus/main.ts --terminal BUS00001 [--replay day.txt] [--server http://127.0.0.1:8080]
import { runReader } from '../lib/reader.js';

await runReader('bus', process.argv.slice(2), 'BUS00001');

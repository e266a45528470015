// The readers' command language, typed on stdin or replayed from a file (--replay): one command a
// line, an optional Shanghai wall-clock time first (the tap's time on --date, else now).
//   [HH:MM[:SS]] tap <cardNo> [amount]     bus validator; taxi with the meter amount in fen
//   [HH:MM[:SS]] in <cardNo> | out <cardNo> metro gate
//   offline | online                       force the link down (taps are queued) or let it up
//   sync                                   upload the offline queue now
//   sleep <ms>   |   # comment   |   quit
export type Command =
  | { op: 'tap'; cardNo: string; direction?: 'in' | 'out'; amount?: number; time: string | null }
  | { op: 'offline' | 'online' | 'sync' | 'quit' }
  | { op: 'sleep'; ms: number };

export const sleepMsMax = 600_000;

export function parseCommand(line: string): Command | null | { error: string } {
  const text = line.replace(/#.*/, '').trim();
  if (text === '') return null;
  const words = text.split(/\s+/);
  let time: string | null = null;
  if (/^\d{2}:\d{2}(:\d{2})?$/.test(words[0]!)) {
    const w = words.shift()!;
    time = w.length === 5 ? `${w}:00` : w;
  }
  const [verb, ...rest] = words;
  switch (verb) {
    case 'tap':
    case 'in':
    case 'out': {
      const [cardNo, amount] = rest;
      if (!cardNo || !/^\d{1,19}$/.test(cardNo)) return { error: `${verb} needs a card number` };
      if (amount !== undefined && !/^[1-9]\d{0,8}$/.test(amount)) return { error: 'the amount is a positive whole number of fen' };
      return { op: 'tap', cardNo, time, ...(verb === 'tap' ? {} : { direction: verb }), ...(amount ? { amount: Number(amount) } : {}) };
    }
    case 'offline':
    case 'online':
    case 'sync':
    case 'quit':
      return { op: verb };
    case 'sleep': {
      const ms = Number(rest[0]);
      if (!Number.isInteger(ms) || ms < 0 || ms > sleepMsMax) return { error: `sleep takes 0–${sleepMsMax} ms` };
      return { op: 'sleep', ms };
    }
    default:
      return { error: `unknown command ${verb}` };
  }
}

/** Today's date in Shanghai, YYYY-MM-DD. */
export function shanghaiToday(now = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

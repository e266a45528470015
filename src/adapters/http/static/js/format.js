// Display helpers. Amounts are integers of fen: yuan are formed with integer arithmetic only.

/** 12345 → "¥123.45", -5 → "-¥0.05". */
export function yuan(fen) {
  const n = Number(fen);
  if (!Number.isSafeInteger(n)) return '—';
  const abs = Math.abs(n);
  return `${n < 0 ? '-' : ''}¥${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** "+¥1.00" for credits, "-¥1.00" for debits. */
export function signedYuan(fen) {
  const n = Number(fen);
  return n > 0 ? `+${yuan(n)}` : yuan(n);
}

// One date/time format on every page: `YYYY-MM-DD HH:mm:ss`, 24-hour, on the city's clock
// (Asia/Shanghai) whatever the browser's zone or language; a time alone is its `HH:mm:ss` part.
const shanghai = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Shanghai',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** {date: "2026-12-02", time: "13:40:05"} of an instant (ISO string or epoch milliseconds), or null. */
function shanghaiParts(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return null;
  const p = Object.fromEntries(shanghai.formatToParts(d).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}` };
}

/** "2026-12-02 13:40:05" (Shanghai); '' for what is not a date. */
export function dateTime(at) {
  const p = shanghaiParts(at);
  return p ? `${p.date} ${p.time}` : '';
}

/** "13:40:05" (Shanghai): the time part of dateTime, for chart axes and same-day times. */
export function clockTime(at) {
  return shanghaiParts(at)?.time ?? '';
}

/** The kiosk's date and time: the same format in both languages. */
export function shanghaiTime(iso) {
  return dateTime(iso);
}

/** Element builder: el('li', {class: 'x'}, 'text', child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = String(value);
    else if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

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

/** Date and time in Asia/Shanghai (the city's clock), in the page's language. */
export function shanghaiTime(iso, lang) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(d);
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

// Fare-policy sandbox view of the operations console: two draft policies (the JSON shape of
// data/demo-network.json) re-rated over one business day's real taps, side by side with the policy
// in force (POST/GET /v1/admin/fare-sandbox). Nothing moves: the jobs only read the day's taps.
import { api } from './api.js';

const tokenKey = 'citizen-card.adminToken';
const pollMs = 500;
const pollsMax = 600;
const $ = (id) => document.getElementById(id);

const yuan = (fen) => (fen / 100).toFixed(2);
const signed = (fen) => (fen > 0 ? `+${yuan(fen)}` : yuan(fen));

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function say(text) {
  $('sandbox-msg').textContent = text;
}

async function runJob(token, businessDate, policy, label) {
  const submitted = await api('/v1/admin/fare-sandbox', { method: 'POST', token, body: { businessDate, policy } });
  if (!submitted.ok) throw new Error(`${label}: ${submitted.data?.detail ?? `HTTP ${submitted.status}`}`);
  for (let i = 0; i < pollsMax; i++) {
    const job = await api(`/v1/admin/fare-sandbox/${submitted.data.jobId}`, { token });
    if (!job.ok) throw new Error(`${label}: HTTP ${job.status}`);
    say(`${label}: ${job.data.state} ${job.data.progress}%`);
    if (job.data.state === 'completed') return job.data.result;
    if (job.data.state === 'failed') throw new Error(`${label}: ${job.data.error ?? 'failed'}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`${label}: no result in time`);
}

/** One comparison table: rows keyed by `keyOf`, columns in force, A (Δ), B (Δ). */
function table(title, rowsA, rowsB, keyOf) {
  const wrap = document.createElement('div');
  const h = document.createElement('h3');
  h.textContent = title;
  const t = document.createElement('table');
  t.className = 'data';
  const head = t.createTHead().insertRow();
  for (const c of ['', 'in force ¥', 'draft A ¥', 'Δ A', 'draft B ¥', 'Δ B']) head.appendChild(Object.assign(document.createElement('th'), { textContent: c }));
  const byKey = new Map(rowsB.map((r) => [keyOf(r), r]));
  const body = t.createTBody();
  for (const a of rowsA) {
    const b = byKey.get(keyOf(a));
    const tr = body.insertRow();
    tr.append(cell(keyOf(a)), cell(yuan(a.inForce), 'num'), cell(yuan(a.draft), 'num'), cell(signed(a.change), 'num'), cell(b ? yuan(b.draft) : '–', 'num'), cell(b ? signed(b.change) : '–', 'num'));
  }
  wrap.append(h, t);
  return wrap;
}

function render(a, b) {
  const out = $('sandbox-result');
  out.replaceChildren();
  out.append(
    table('Revenue', [{ ...a.revenue, key: 'total' }], [{ ...b.revenue, key: 'total' }], (r) => r.key),
    table('By operator', a.byOperator, b.byOperator, (r) => r.operatorId),
    table('By operator and route', a.byRoute, b.byRoute, (r) => `${r.operatorId} ${r.routeId}`),
    table('By card type', a.byCardType, b.byCardType, (r) => r.cardType),
    table('By residence district', a.byDistrict, b.byDistrict, (r) => r.district),
  );
  const p = document.createElement('p');
  p.className = 'note';
  p.textContent = `Cards paying more / less / the same — draft A: ${a.perCard.more} / ${a.perCard.less} / ${a.perCard.same}; draft B: ${b.perCard.more} / ${b.perCard.less} / ${b.perCard.same}. ${a.cards} cards, ${a.taps} taps on ${a.businessDate} (policy in force ${a.policyInForce}).`;
  out.append(p);
}

function parse(id, label) {
  try {
    return JSON.parse($(id).value);
  } catch {
    throw new Error(`${label} is not valid JSON`);
  }
}

$('sandbox-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = sessionStorage.getItem(tokenKey);
  if (!token) return say('Connect with the admin token first.');
  try {
    const businessDate = $('sandbox-day').value;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(businessDate)) return say('Type the business day as YYYY-MM-DD.');
    const policyA = parse('sandbox-a', 'Draft A');
    const policyB = parse('sandbox-b', 'Draft B');
    $('sandbox-run').disabled = true;
    const a = await runJob(token, businessDate, policyA, 'Draft A');
    const b = await runJob(token, businessDate, policyB, 'Draft B');
    render(a, b);
    say('Done. Nothing was charged: the sandbox only re-rates the day’s taps.');
  } catch (error) {
    say(error instanceof Error ? error.message : String(error));
  } finally {
    $('sandbox-run').disabled = false;
  }
});

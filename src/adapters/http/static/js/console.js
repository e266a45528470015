// Operations console: live authorization rate and answer codes, ridership and the OD matrix,
// drift, trial balance, clearing results and the latest nightly jobs, from the admin API. The admin token is typed
// here and kept in sessionStorage (this tab only), sent as a Bearer token.
import { api, failureText } from './api.js';
import { dateTime, el, yuan } from './format.js';
import { barsChart, hourlyChart, rateChart } from './charts.js';

const tokenKey = 'citizen-card.adminToken';
const statsEveryMs = 1000;
const slowEveryMs = 15_000;
const jobCellChars = 160;
const $ = (id) => document.getElementById(id);
/** The console's one date format (docs/citizen.md): business days are typed as YYYY-MM-DD too. */
const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

/** The day typed in an input, '' for the default day, or null (and a message) when it is not a date. */
function typedDay(id) {
  const day = $(id).value.trim();
  if (day && !dayPattern.test(day)) {
    message(`Type the business day as YYYY-MM-DD (not "${day}").`, 'error');
    return null;
  }
  return day;
}

let token = sessionStorage.getItem(tokenKey);
let timers = [];

function message(text, kind = '') {
  const node = $('console-msg');
  node.textContent = text;
  node.className = `message ${kind}`;
}

let unreachable = false;

// Charts are created once and updated in place (uPlot), after the panels are shown.
let charts = null;
function chartsOf() {
  charts ??= {
    rate: rateChart($('rate-chart')),
    codes: barsChart($('codes-chart'), { title: 'Answers by response code', valueLabel: 'answers since start' }),
    riders: hourlyChart($('riders-chart'), { unit: 'riders' }),
    od: barsChart($('od-chart'), { title: 'Metro journeys, entry → exit station', valueLabel: 'journeys' }),
  };
  return charts;
}

async function get(path) {
  const res = await api(path, { token });
  if (res.status === 0) unreachable = true;
  if (res.status === 401 || res.status === 403) {
    disconnect('The admin token was refused. Enter it again.');
    return null;
  }
  if (!res.ok) {
    message(failureText(path, res), 'error');
    return null;
  }
  if (unreachable) {
    unreachable = false;
    message('Connected again.', 'ok');
  }
  return res.data;
}

// ---------- panels ----------

async function loadStats() {
  const s = await get('/v1/admin/stats');
  if (!s) return;
  $('kpi-rate').textContent = String(s.perSecond);
  $('kpi-peak').textContent = String(s.peakPerSecond);
  $('kpi-approved').textContent = String(s.approved);
  $('kpi-declined').textContent = String(s.declined);
  chartsOf().rate(s.samples);
  chartsOf().codes(s.totals.map((c) => ({ label: `${c.code} ${c.meaning}`, value: c.count })), 'No answers yet.');
  renderChannels(s.channels ?? []);
}

/** Every answer sent, per channel (http, iso, batch) and operation, approvals and declines alike. */
function renderChannels(rows) {
  if (rows.length === 0) {
    $('channels').replaceChildren(el('p', { class: 'note', text: 'No authorization answered since start.' }));
    return;
  }
  const head = el('tr', {}, el('th', { text: 'channel' }), el('th', { text: 'operation' }), el('th', { text: 'code' }), el('th', { text: 'meaning' }), el('th', { class: 'num', text: 'answers' }));
  const table = el('table', { class: 'data' }, head);
  for (const r of rows) {
    table.append(el('tr', { 'data-key': `${r.channel}|${r.operation}|${r.code}` }, el('td', { text: r.channel }), el('td', { text: r.operation }), el('td', { text: r.code }), el('td', { text: r.meaning }), el('td', { class: 'num', text: String(r.count) })));
  }
  const perChannel = new Map();
  for (const r of rows) {
    const t = perChannel.get(r.channel) ?? { all: 0, declined: 0 };
    t.all += r.count;
    if (r.code !== '00') t.declined += r.count;
    perChannel.set(r.channel, t);
  }
  const summary = [...perChannel].map(([channel, t]) => `${channel}: ${t.all} answers, ${t.declined} declined`).join(' · ');
  $('channels').replaceChildren(table, el('p', { class: 'note', text: summary }));
}

async function loadRidership() {
  const day = typedDay('day');
  if (day === null) return;
  const r = await get(`/v1/admin/console/ridership${day ? `?businessDate=${encodeURIComponent(day)}` : ''}`);
  if (!r) return;
  if (!day) $('day').value = r.businessDate;
  const routes = [...new Set(r.byRouteHour.map((c) => c.route))].sort();
  // Hours of a business day: 04:00 to 03:00 the next morning.
  const hours = Array.from({ length: 24 }, (_, i) => (i + 4) % 24);
  const byKey = new Map(r.byRouteHour.map((c) => [`${c.route}|${c.hour}`, c]));
  // A suppressed cell (under the publication minimum) is a gap in its line, an absent one is zero.
  const series = routes.map((route) => ({ name: route, values: hours.map((h) => { const c = byKey.get(`${route}|${h}`); return c ? (c.suppressed ? null : c.count) : 0; }) }));
  chartsOf().riders(series, hours.map((h) => `${String(h).padStart(2, '0')}:00`), 'No rides on this business day.', r.cellMin);
  const totals = r.routes.map((x) => `${x.route}: ${x.total ?? `<${r.cellMin}`}`).join(' · ');
  const source = r.source === 'taps' ? 'accepted taps from the transit tap log' : 'paid rides from the ledger journal (no tap log for this day)';
  $('riders-note').textContent = `Business day ${r.businessDate} (04:00–04:00 Shanghai): ${source}; bus per route, metro per entry station; hours with under ${r.cellMin} riders are gaps in the line. ${totals ? `Totals: ${totals}` : ''}`;
  const shown = r.od.filter((c) => !c.suppressed).sort((a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  const hidden = r.od.length - shown.length;
  chartsOf().od(shown.map((c) => ({ label: `${c.from} → ${c.to}`, value: c.count })), hidden > 0 ? `Every metro journey pair has under ${r.cellMin} riders: not shown.` : 'No metro journeys on this business day.');
  $('od-note').textContent = `Entry → exit station pairs, most journeys first${hidden > 0 ? `; ${hidden} pair${hidden === 1 ? '' : 's'} under ${r.cellMin} journeys not shown` : ''}.`;
}

async function loadDrift() {
  const d = await get('/v1/admin/console/drift');
  if (!d) return;
  const badge = $('drift-badge');
  badge.textContent = d.ok ? 'in agreement' : `${d.drifted.length} drifted`;
  badge.className = `badge ${d.ok ? 'ok' : 'bad'}`;
  const rows = [el('p', { class: 'note', text: `Sampled ${d.sampled} cached cards at ${dateTime(d.at)}: ${d.matched} match PostgreSQL, ${d.inFlight} with a command in flight.` })];
  if (d.drifted.length > 0) {
    const table = el('table', { class: 'data' }, el('tr', {}, el('th', { text: 'card' }), el('th', { class: 'num', text: 'Redis purse' }), el('th', { class: 'num', text: 'PG purse' }), el('th', { class: 'num', text: 'Redis medical' }), el('th', { class: 'num', text: 'PG medical' })));
    for (const x of d.drifted) table.append(el('tr', {}, el('td', { text: x.card }), el('td', { class: 'num', text: yuan(x.redisPurse) }), el('td', { class: 'num', text: yuan(x.pgPurse) }), el('td', { class: 'num', text: yuan(x.redisMedical) }), el('td', { class: 'num', text: yuan(x.pgMedical) })));
    rows.push(table);
  }
  $('drift').replaceChildren(...rows);
}

async function loadTrialBalance() {
  const tb = await get('/v1/admin/trial-balance');
  if (!tb) return;
  const badge = $('tb-badge');
  badge.textContent = tb.balanced ? 'balanced' : 'NOT balanced';
  badge.className = `badge ${tb.balanced ? 'ok' : 'bad'}`;
  const table = el('table', { class: 'data' }, el('tr', {}, el('th', { text: 'account kind' }), el('th', { class: 'num', text: 'accounts' }), el('th', { class: 'num', text: 'balance' })));
  for (const a of tb.accounts) table.append(el('tr', {}, el('td', { text: a.kind }), el('td', { class: 'num', text: String(a.count) }), el('td', { class: 'num', text: yuan(a.balance) })));
  table.append(el('tr', {}, el('th', { text: 'total' }), el('td', {}), el('th', { class: 'num', text: yuan(tb.total) })));
  $('tb').replaceChildren(table);
}

/**
 * A run's result for a person: its top-level figures ("parties 3 · gross ¥23.00 · file
 * clearing-….csv"), amounts (…Fen) in yuan; lists and nested detail are counted, not dumped.
 */
function resultSummary(text) {
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    return text.length > jobCellChars ? `${text.slice(0, jobCellChars)}…` : text;
  }
  if (!result || typeof result !== 'object' || Array.isArray(result)) return String(result);
  const parts = [];
  for (const [key, value] of Object.entries(result)) {
    if (key === 'businessDate' || value === null) continue;
    if (key.endsWith('Fen') && typeof value === 'number') parts.push(`${key.slice(0, -3)} ${yuan(value)}`);
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') parts.push(`${key} ${value}`);
    else if (Array.isArray(value)) {
      if (value.length > 0) parts.push(`${key} ${value.length}`);
    } else if (typeof value.fileName === 'string') parts.push(`file ${value.fileName}`);
  }
  const summary = parts.join(' · ');
  return summary.length > jobCellChars ? `${summary.slice(0, jobCellChars)}…` : summary;
}

async function loadJobs() {
  const j = await get('/v1/admin/console/jobs');
  if (!j) return;
  if (!j.available) {
    $('jobs').replaceChildren(el('p', { class: 'note', text: 'No job_runs table yet: the nightly jobs have not been installed in this database.' }));
    return;
  }
  if (j.runs.length === 0) {
    $('jobs').replaceChildren(el('p', { class: 'note', text: 'No job has run yet.' }));
    return;
  }
  const preferred = ['name', 'business_date', 'status', 'progress', 'attempts', 'finished_at', 'result', 'error'];
  const wanted = preferred.every((c) => j.columns.includes(c)) ? preferred : j.columns;
  const cols = wanted.filter((c) => j.runs.some((r) => r[c] !== null && r[c] !== undefined));
  const table = el('table', { class: 'data' }, el('tr', {}, ...cols.map((c) => el('th', { text: c }))));
  const cellText = (c, v) => {
    if (v === null || v === undefined) return '';
    const text = String(v);
    if (c.endsWith('_at')) return dateTime(text);
    if (c === 'result') return resultSummary(text);
    return text.length > jobCellChars ? `${text.slice(0, jobCellChars)}…` : text;
  };
  for (const run of j.runs) {
    table.append(el('tr', {}, ...cols.map((c) => el('td', { class: c === 'result' ? 'summary' : c === 'error' ? 'wrap' : 'nowrap', title: c === 'result' ? String(run[c] ?? '') : null, text: cellText(c, run[c]) }))));
  }
  $('jobs').replaceChildren(table);
}

/** The clearing job's settlement file of a day as a table, amounts in yuan from integer fen, with the file linked. */
async function loadClearing() {
  const day = typedDay('clearing-day');
  if (day === null) return;
  const c = await get(`/v1/admin/console/clearing${day ? `?businessDate=${encodeURIComponent(day)}` : ''}`);
  if (!c) return;
  if (!day && c.businessDate) $('clearing-day').value = c.businessDate;
  if (!c.fileName) {
    $('clearing').replaceChildren(el('p', { class: 'note', text: c.businessDate ? `No clearing file for ${c.businessDate}: the clearing job has not run for that day.` : 'No clearing file yet: the clearing job has not run.' }));
    return;
  }
  const num = (text) => el('td', { class: 'num', text });
  const table = el('table', { class: 'data', 'data-testid': 'clearing-table' },
    el('caption', { class: 'note', text: `Clearing of business day ${c.businessDate}` }),
    el('tr', {}, el('th', { scope: 'col', text: 'party' }), el('th', { scope: 'col', class: 'num', text: 'count' }), el('th', { scope: 'col', class: 'num', text: 'gross' }), el('th', { scope: 'col', class: 'num', text: 'commission' }), el('th', { scope: 'col', class: 'num', text: 'net' })));
  for (const r of c.rows) {
    const party = `${r.partyType} ${r.partyId}${r.lateDate ? ` (late postings of ${r.lateDate})` : ''}`;
    table.append(el('tr', { 'data-party': `${r.partyType}:${r.partyId}` }, el('td', { text: party, title: `${r.account} account, commission rate ${r.commissionRate}` }), num(String(r.count)), num(yuan(r.grossFen)), num(yuan(r.commissionFen)), num(yuan(r.netFen))));
  }
  if (c.total) table.append(el('tr', { class: 'total' }, el('th', { scope: 'row', text: 'total' }), num(String(c.total.count)), num(yuan(c.total.grossFen)), num(yuan(c.total.commissionFen)), num(yuan(c.total.netFen))));
  const link = el('a', { href: c.download, download: c.fileName, 'data-testid': 'clearing-file' }, `Settlement file ${c.fileName}`);
  link.addEventListener('click', (e) => {
    e.preventDefault();
    void download(c.download, c.fileName);
  });
  $('clearing').replaceChildren(el('div', { class: 'scroll' }, table), el('p', { class: 'note' }, link, c.truncated ? ' (the table shows the first rows; the file has them all)' : ''));
}

/** The admin routes take the token as a header, which a plain link cannot send: fetched, then saved. */
async function download(path, fileName) {
  let res;
  try {
    res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  } catch {
    message(failureText(path, { status: 0, data: null }), 'error');
    return;
  }
  if (!res.ok) {
    message(failureText(path, { status: res.status, data: await res.json().catch(() => null) }), 'error');
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = el('a', { href: url, download: fileName, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function loadSlow() {
  await Promise.all([loadRidership(), loadDrift(), loadTrialBalance(), loadClearing(), loadJobs()]);
}

// ---------- session ----------

async function connect() {
  const res = await api('/v1/admin/stats', { token });
  if (!res.ok) {
    disconnect(res.status === 401 || res.status === 403 ? 'The admin token was refused.' : failureText('/v1/admin/stats', res));
    return;
  }
  sessionStorage.setItem(tokenKey, token);
  // The dashboard takes the admin token once and answers with its own cookie (docs/operations.md).
  $('jobs-link').href = `/admin/queues?token=${encodeURIComponent(token)}`;
  $('panels').hidden = false;
  $('disconnect').hidden = false;
  $('token').value = '';
  $('token').hidden = true;
  $('connect-btn').hidden = true;
  message('Connected. Live data refreshes every second; the other panels every 15 seconds.', 'ok');
  await Promise.all([loadStats(), loadSlow()]);
  timers.forEach(clearInterval);
  timers = [setInterval(() => void loadStats(), statsEveryMs), setInterval(() => void loadSlow(), slowEveryMs)];
}

function disconnect(text) {
  timers.forEach(clearInterval);
  timers = [];
  token = null;
  sessionStorage.removeItem(tokenKey);
  $('jobs-link').href = '/admin/queues';
  $('panels').hidden = true;
  $('disconnect').hidden = true;
  $('token').hidden = false;
  $('connect-btn').hidden = false;
  message(text ?? 'Disconnected.', text ? 'error' : '');
}

function init() {
  $('connect').addEventListener('submit', (e) => {
    e.preventDefault();
    const typed = $('token').value.trim();
    if (!typed) return;
    token = typed;
    void connect();
  });
  $('disconnect').addEventListener('click', () => disconnect(null));
  $('refresh').addEventListener('click', () => void loadSlow());
  $('day').addEventListener('change', () => void loadRidership());
  $('clearing-day').addEventListener('change', () => void loadClearing());
  if (token) void connect();
}

init();

// Operations console: live authorization rate and answer codes, ridership and the OD matrix,
// drift, trial balance and the latest nightly jobs, from the admin API. The admin token is typed
// here and kept in sessionStorage (this tab only), sent as a Bearer token.
import { api, failureText } from './api.js';
import { el, yuan } from './format.js';
import { barChart, heatMap, lineChart } from './charts.js';

const tokenKey = 'citizen-card.adminToken';
const statsEveryMs = 1000;
const slowEveryMs = 15_000;
const jobCellChars = 160;
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(tokenKey);
let timers = [];

function message(text, kind = '') {
  const node = $('console-msg');
  node.textContent = text;
  node.className = `message ${kind}`;
}

let unreachable = false;

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
  $('rate-chart').replaceChildren(lineChart(s.samples, { title: 'authorizations per second' }));
  const bars = s.totals.map((c) => ({ label: `${c.code} ${c.meaning}`, value: c.count, decline: c.code !== '00' }));
  $('codes-chart').replaceChildren(barChart(bars, { title: 'answers by response code' }));
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
  const day = $('day').value;
  const r = await get(`/v1/admin/console/ridership${day ? `?businessDate=${encodeURIComponent(day)}` : ''}`);
  if (!r) return;
  if (!day) $('day').value = r.businessDate;
  const routes = [...new Set(r.byRouteHour.map((c) => c.route))].sort();
  // Hours of a business day: 04:00 to 03:00 the next morning.
  const hours = Array.from({ length: 24 }, (_, i) => (i + 4) % 24);
  const byKey = new Map(r.byRouteHour.map((c) => [`${c.route}|${c.hour}`, c]));
  $('riders-chart').replaceChildren(
    heatMap(routes, hours, (route, hour) => byKey.get(`${route}|${hour}`), { title: 'boardings per route and hour', min: r.cellMin, colLabel: (h) => String(h).padStart(2, '0'), empty: 'No rides on this business day.' }),
  );
  const totals = r.routes.map((x) => `${x.route}: ${x.total ?? `<${r.cellMin}`}`).join(' · ');
  const source = r.source === 'taps' ? 'accepted taps from the transit tap log' : 'paid rides from the ledger journal (no tap log for this day)';
  $('riders-note').textContent = `Business day ${r.businessDate} (04:00–04:00 Shanghai): ${source}; bus per route, metro per entry station; cells under ${r.cellMin} riders are not shown. ${totals ? `Totals: ${totals}` : ''}`;
  const od = new Map(r.od.map((c) => [`${c.from}|${c.to}`, c]));
  const origins = [...new Set(r.od.map((c) => c.from))].sort();
  const destinations = [...new Set(r.od.map((c) => c.to))].sort();
  $('od-chart').replaceChildren(
    heatMap(origins, destinations, (from, to) => od.get(`${from}|${to}`), { title: 'metro journeys origin to destination', min: r.cellMin, cellW: 46, colLabel: (s) => s, empty: 'No metro journeys on this business day.' }),
    el('p', { class: 'note', text: 'rows: entry station · columns: exit station' }),
  );
}

async function loadDrift() {
  const d = await get('/v1/admin/console/drift');
  if (!d) return;
  const badge = $('drift-badge');
  badge.textContent = d.ok ? 'in agreement' : `${d.drifted.length} drifted`;
  badge.className = `badge ${d.ok ? 'ok' : 'bad'}`;
  const rows = [el('p', { class: 'note', text: `Sampled ${d.sampled} cached cards at ${new Date(d.at).toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai' })}: ${d.matched} match PostgreSQL, ${d.inFlight} with a command in flight.` })];
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
    if (c.endsWith('_at')) return new Date(text).toLocaleString('en-GB', { timeZone: 'Asia/Shanghai' });
    return text.length > jobCellChars ? `${text.slice(0, jobCellChars)}…` : text;
  };
  for (const run of j.runs) {
    table.append(el('tr', {}, ...cols.map((c) => el('td', { class: c === 'result' || c === 'error' ? 'wrap' : 'nowrap', title: c === 'result' ? String(run[c] ?? '') : null, text: cellText(c, run[c]) }))));
  }
  $('jobs').replaceChildren(table);
}

async function loadSlow() {
  await Promise.all([loadRidership(), loadDrift(), loadTrialBalance(), loadJobs()]);
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
  if (token) void connect();
}

init();

// Kiosk page: card number and PIN on an on-screen keypad, balance, history with fare explanations,
// top-up orders paid at the kiosk, loss report; Chinese and English. The citizen's token lives in
// this page's memory only (a shared public device): reloading or leaving logs out.
import { api } from './api.js';
import { el, shanghaiTime, signedYuan, yuan } from './format.js';
import { currentLang, label, setLang, t } from './i18n.js';

const cardLength = 16;
const pinLength = 6;
const historyPage = 10;
const idleLogoutMs = 90_000;

const $ = (id) => document.getElementById(id);

const state = {
  field: 'card',
  card: '',
  pin: '',
  token: null,
  me: null,
  items: [],
  cursor: null,
  topup: null, // {amount, orderId} while a top-up order is being made or waits for the kiosk's payment
  lastMessage: null, // {id, key, args, kind} to re-render on language change
};

// ---------- language ----------

function applyLang(lang) {
  setLang(lang);
  // The button's accessible name is its text (the other language), marked as that language.
  $('lang').textContent = t('langButton');
  $('lang').lang = lang === 'zh' ? 'en' : 'zh';
  if (state.me) renderAccount();
  renderHistory();
  if (state.lastMessage) showMessage(state.lastMessage.id, state.lastMessage.key, state.lastMessage.args, state.lastMessage.kind);
  if (state.topup) $('topup-amount').textContent = yuan(state.topup.amount);
  showOrder();
}

function showMessage(id, key, args = [], kind = 'error') {
  state.lastMessage = key ? { id, key, args, kind } : null;
  const node = $(id);
  node.textContent = key ? t(key, ...args) : '';
  node.className = `message ${kind}`;
}

// ---------- login ----------

function groupCard(digits) {
  return digits.replace(/(\d{4})(?=\d)/g, '$1 ');
}

function renderLogin() {
  $('card-value').textContent = groupCard(state.card);
  $('pin-value').textContent = '•'.repeat(state.pin.length);
  $('field-card').classList.toggle('active', state.field === 'card');
  $('field-pin').classList.toggle('active', state.field === 'pin');
  $('field-card').setAttribute('aria-pressed', String(state.field === 'card'));
  $('field-pin').setAttribute('aria-pressed', String(state.field === 'pin'));
  $('login-btn').disabled = !(state.card.length === cardLength && state.pin.length === pinLength);
}

function press(key) {
  const field = state.field;
  if (key === 'clear') state[field] = '';
  else if (key === 'back') {
    if (state[field].length === 0 && field === 'pin') state.field = 'card';
    else state[field] = state[field].slice(0, -1);
  } else if (/^\d$/.test(key)) {
    const max = field === 'card' ? cardLength : pinLength;
    if (state[field].length < max) state[field] += key;
    if (field === 'card' && state.card.length === cardLength) state.field = 'pin';
  }
  renderLogin();
}

let loggingIn = false;
async function login() {
  if (loggingIn || state.card.length !== cardLength || state.pin.length !== pinLength) return;
  loggingIn = true;
  try {
    await loginOnce();
  } finally {
    loggingIn = false;
  }
}

async function loginOnce() {
  $('login-btn').disabled = true;
  showMessage('login-msg', 'loggingIn', [], 'ok');
  const res = await api('/v1/citizen/login', { method: 'POST', body: { cardNo: state.card, pin: state.pin } });
  // The PIN leaves memory whatever the answer.
  state.pin = '';
  if (res.ok && res.data?.token) {
    state.token = res.data.token;
    state.card = '';
    state.field = 'card';
    showMessage('login-msg', null);
    renderLogin();
    await openAccount();
    return;
  }
  if (res.status === 401) showMessage('login-msg', 'wrongPin', [res.data?.triesLeft ?? 0]);
  else if (res.status === 423) showMessage('login-msg', 'locked', [Math.max(1, Math.ceil(Number(res.retryAfter ?? 900) / 60))]);
  else if (res.status === 429) showMessage('login-msg', 'rateLimited', [Number(res.retryAfter ?? 60)]);
  else if (res.status === 400) showMessage('login-msg', 'badCard');
  else if (res.status === 0) showMessage('login-msg', 'network');
  else showMessage('login-msg', 'error');
  state.field = res.status === 400 ? 'card' : 'pin';
  renderLogin();
}

// ---------- account ----------

async function authed(path, options = {}) {
  const res = await api(path, { ...options, token: state.token });
  if (res.status === 401) {
    logout('sessionEnded');
    return null;
  }
  return res;
}

async function openAccount() {
  $('login').hidden = true;
  $('account').hidden = false;
  state.items = [];
  state.cursor = null;
  await Promise.all([loadMe(), loadHistory(true)]);
}

async function loadMe() {
  const res = await authed('/v1/citizen/me');
  if (!res) return;
  if (!res.ok) return showMessage('account-msg', 'error');
  state.me = res.data;
  renderAccount();
}

function renderAccount() {
  const me = state.me;
  $('holder').textContent = me.holder.name;
  $('card-masked').textContent = me.cardNo;
  $('card-type').textContent = label('cardTypes', me.cardType);
  const status = $('card-status');
  status.textContent = label('statuses', me.status);
  status.className = `status ${me.status}`;
  $('purse').textContent = yuan(me.purse);
  $('medical').textContent = yuan(me.medical);
  const usable = me.status === 'active';
  $('topup-open').disabled = !usable;
  $('loss-open').disabled = !usable;
}

async function loadHistory(reset) {
  const query = new URLSearchParams({ limit: String(historyPage) });
  if (!reset && state.cursor) query.set('cursor', state.cursor);
  const res = await authed(`/v1/citizen/transactions?${query}`);
  if (!res || !res.ok) return;
  state.items = reset ? res.data.items : [...state.items, ...res.data.items];
  state.cursor = res.data.nextCursor;
  renderHistory();
}

function renderHistory() {
  const list = $('history');
  list.replaceChildren();
  $('more').hidden = !state.cursor;
  if (!state.token) return;
  if (state.items.length === 0) {
    list.append(el('li', {}, el('span', { class: 'empty', text: t('noHistory') })));
    return;
  }
  const lang = currentLang();
  for (const item of state.items) {
    const what = [label('kinds', item.kind)];
    if (item.account === 'medical' && !item.kind.startsWith('medical')) what.push(`(${label('accounts', 'medical')})`);
    const d = item.detail ?? {};
    const where = d.routeId ?? (d.entryStationId && d.exitStationId ? `${d.entryStationId} → ${d.exitStationId}` : d.stationId) ?? d.merchantId ?? (d.channel ? label('channels', d.channel) : '');
    const li = el(
      'li',
      { 'data-kind': item.kind },
      el('span', { class: 'what', text: `${what.join(' ')}${where ? ` · ${where}` : ''}` }),
      el('span', { class: `amt ${item.amount < 0 ? 'neg' : 'pos'}`, text: signedYuan(item.amount) }),
      el('span', { class: 'when', text: shanghaiTime(item.createdAt) }),
    );
    if (item.explanation?.length) {
      const why = el('ul', { class: 'why', 'data-testid': 'explanation' });
      for (const line of item.explanation) why.append(el('li', { text: line }));
      li.append(why);
    }
    list.append(li);
  }
}

// ---------- top-up ----------
// The page only creates a top-up order (the citizen's token moves no money); the kiosk's cash or
// card acceptor confirms it with the kiosk terminal's own key, and the page waits for that.

const orderPollMs = 1000;
let orderPoll = null;

function chooseAmount(amount) {
  if (state.topup?.orderId) return; // an order is open: cancel it first
  state.topup = { amount, orderId: null };
  for (const b of $('amounts').querySelectorAll('button')) b.classList.toggle('chosen', Number(b.dataset.amount) === amount);
  $('topup-amount').textContent = yuan(amount);
  $('topup-confirm').hidden = false;
}

function showOrder() {
  const node = $('topup-order');
  node.hidden = !state.topup?.orderId;
  node.textContent = state.topup?.orderId ? t('topupWaiting', state.topup.orderId) : '';
}

async function startTopup() {
  if (!state.topup || state.topup.orderId) return;
  $('topup-go').disabled = true;
  const res = await authed('/v1/citizen/topup-orders', { method: 'POST', body: { amount: state.topup.amount } });
  if (!res) return;
  if (res.status === 201) {
    state.topup.orderId = res.data.orderId;
    showOrder();
    orderPoll = setInterval(() => void pollOrder(), orderPollMs);
    return;
  }
  $('topup-go').disabled = false;
  if (res.status === 429) showMessage('account-msg', 'topupTooMany');
  else if (res.status === 400 && res.data?.code) showMessage('account-msg', 'topupDeclined', [res.data.code]);
  else showMessage('account-msg', res.status === 0 || res.status >= 500 ? 'topupRetry' : 'error');
}

async function pollOrder() {
  const orderId = state.topup?.orderId;
  if (!orderId) return stopPoll();
  const res = await authed(`/v1/citizen/topup-orders/${orderId}`);
  if (!res || !res.ok || state.topup?.orderId !== orderId) return; // a network blip: ask again
  const { status, code, amount } = res.data;
  if (status === 'pending' || status === 'confirming') return;
  closePanels();
  if (status === 'confirmed') {
    await Promise.all([loadMe(), loadHistory(true)]);
    showMessage('account-msg', 'topupOk', [yuan(amount), yuan(state.me?.purse ?? 0)], 'ok');
  } else if (status === 'declined') showMessage('account-msg', 'topupDeclined', [code]);
  else showMessage('account-msg', 'topupExpired');
}

function stopPoll() {
  clearInterval(orderPoll);
  orderPoll = null;
}

/** Cancel on the page: an open order is cancelled on the server too (a confirmed one stays). */
function cancelTopup() {
  const orderId = state.topup?.orderId;
  if (orderId && state.token) void api(`/v1/citizen/topup-orders/${orderId}/cancel`, { method: 'POST', body: {}, token: state.token });
  closePanels();
}

// ---------- loss report ----------

async function reportLoss() {
  $('loss-go').disabled = true;
  const res = await authed('/v1/citizen/report-loss', { method: 'POST', body: {} });
  $('loss-go').disabled = false;
  if (!res) return;
  closePanels();
  if (res.ok) showMessage('account-msg', res.data.changed ? 'lossOk' : 'lossAlready', [], res.data.changed ? 'ok' : 'error');
  else showMessage('account-msg', 'error');
  await loadMe();
}

function closePanels() {
  stopPoll();
  $('topup-panel').hidden = true;
  $('topup-confirm').hidden = true;
  $('topup-go').disabled = false;
  $('loss-panel').hidden = true;
  state.topup = null;
  showOrder();
  for (const b of $('amounts').querySelectorAll('button')) b.classList.remove('chosen');
}

// ---------- session ----------

function logout(reason) {
  cancelTopup();
  state.token = null;
  state.me = null;
  state.items = [];
  state.cursor = null;
  state.card = '';
  state.pin = '';
  state.field = 'card';
  closePanels();
  showMessage('account-msg', null);
  $('account').hidden = true;
  $('login').hidden = false;
  renderHistory();
  renderLogin();
  if (reason) showMessage('login-msg', reason, [], 'error');
  else showMessage('login-msg', null);
}

let idleTimer = null;
function touch() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (state.token) logout('idleLogout');
    else if (state.card || state.pin) logout(null);
  }, idleLogoutMs);
}

// ---------- wiring ----------

function init() {
  $('keypad').addEventListener('click', (e) => {
    const key = e.target.closest('button')?.dataset.key;
    if (key) press(key);
  });
  for (const id of ['field-card', 'field-pin']) {
    const choose = () => {
      state.field = $(id).dataset.field;
      renderLogin();
    };
    $(id).addEventListener('click', choose);
    // Tab moves the focus as usual; the field that has it is the one typed into.
    $(id).addEventListener('focus', choose);
  }
  $('login-btn').addEventListener('click', () => void login());
  $('lang').addEventListener('click', () => applyLang(currentLang() === 'zh' ? 'en' : 'zh'));
  $('logout').addEventListener('click', () => logout(null));
  $('topup-open').addEventListener('click', () => {
    cancelTopup();
    $('topup-panel').hidden = false;
  });
  $('amounts').addEventListener('click', (e) => {
    const amount = Number(e.target.closest('button')?.dataset.amount);
    if (amount) chooseAmount(amount);
  });
  $('topup-go').addEventListener('click', () => void startTopup());
  $('topup-cancel').addEventListener('click', cancelTopup);
  $('loss-open').addEventListener('click', () => {
    cancelTopup();
    $('loss-panel').hidden = false;
  });
  $('loss-go').addEventListener('click', () => void reportLoss());
  $('loss-cancel').addEventListener('click', closePanels);
  $('more').addEventListener('click', () => void loadHistory(false));
  // A physical keyboard (or a card reader that types the number) works too.
  document.addEventListener('keydown', (e) => {
    if (state.token || e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^\d$/.test(e.key)) press(e.key);
    else if (e.key === 'Backspace') press('back');
    else if (e.key === 'Enter') {
      // Enter on a keypad key, the language or the login button is that button's own click; on a
      // field (or nowhere) it submits the form.
      const onButton = e.target instanceof HTMLButtonElement && !e.target.classList.contains('field');
      if (onButton) return;
      e.preventDefault();
      void login();
    }
  });
  for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, touch, { passive: true });
  const wanted = new URLSearchParams(location.search).get('lang');
  applyLang(wanted === 'en' ? 'en' : 'zh');
  renderLogin();
  touch();
}

init();

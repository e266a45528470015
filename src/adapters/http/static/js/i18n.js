// Kiosk texts in Chinese and English. Elements carry data-i18n="key"; dynamic texts use t(key).

export const texts = {
  zh: {
    title: '市民卡自助服务',
    loginTitle: '请输入卡号和密码',
    cardNo: '卡号',
    pin: '密码',
    loginHelp: '可刷卡读取卡号，或用下方键盘输入 16 位卡号与 6 位密码。',
    clear: '清除',
    login: '登录',
    hello: '您好',
    logout: '退出',
    purse: '电子钱包余额',
    medical: '医保个人账户',
    topup: '充值',
    reportLoss: '挂失',
    topupChoose: '选择充值金额',
    topupInsert: '充值金额：',
    topupConfirm: '开始充值',
    cancel: '取消',
    lossTitle: '确认挂失？',
    lossText: '挂失后本卡立即停止使用（乘车、消费、充值），余额保留，可到服务网点补卡。',
    lossConfirm: '确认挂失',
    history: '最近交易',
    more: '更多',
    privacy: '为保护隐私，卡号与姓名部分隐藏。离开前请退出。',
    langButton: 'English',
    noHistory: '暂无交易',
    loggingIn: '正在登录…',
    wrongPin: (n) => `卡号或密码错误，还可尝试 ${n} 次，之后登录将锁定 15 分钟。`,
    locked: (m) => `密码错误次数过多，登录已锁定，请 ${m} 分钟后再试，或到服务网点办理。`,
    rateLimited: (s) => `尝试过于频繁，请 ${s} 秒后再试。`,
    badCard: '卡号无效，请检查后重新输入。',
    network: '网络异常，请稍后重试。',
    error: '系统繁忙，请稍后重试。',
    sessionEnded: '会话已结束，请重新登录。',
    idleLogout: '长时间未操作，已自动退出。',
    topupOk: (a, b) => `充值成功 ${a}，当前余额 ${b}。`,
    topupDeclined: (c) => `充值未成功（代码 ${c}）。`,
    topupRetry: '充值结果未知，请点击“开始充值”重试（不会重复扣款）。',
    topupWaiting: (id) => `请在本机投入现金或刷银行卡，付款后自动到账。订单号 ${id}`,
    topupExpired: '充值订单已取消或已过期，未扣款。',
    topupTooMany: '未完成的充值订单过多，请稍后再试。',
    lossOk: '挂失成功，本卡已停止使用。请携带身份证到服务网点补卡。',
    lossAlready: '本卡已挂失或已停用。',
    kinds: {
      topup: '充值',
      payment: '消费',
      'payment-reversal': '消费撤销',
      refund: '退款',
      tap: '乘车',
      'medical-credit': '医保划入',
      'medical-settle': '医保结算',
      'medical-cancel': '医保结算撤销',
      'card-replace': '补换卡余额转移',
    },
    cardTypes: { adult: '普通卡', student: '学生卡', senior: '老年卡', disabled: '残疾人卡' },
    statuses: { active: '正常', lost: '已挂失', blocked: '已停用' },
    accounts: { purse: '钱包', medical: '医保' },
    channels: { kiosk: '自助机', bank: '银行', app: '手机', counter: '柜台' },
  },
  en: {
    title: 'Citizen Card Kiosk',
    loginTitle: 'Enter your card number and PIN',
    cardNo: 'Card number',
    pin: 'PIN',
    loginHelp: 'Tap your card on the reader, or type the 16-digit card number and 6-digit PIN on the keypad.',
    clear: 'Clear',
    login: 'Log in',
    hello: 'Hello',
    logout: 'Log out',
    purse: 'Purse balance',
    medical: 'Medical account',
    topup: 'Top up',
    reportLoss: 'Report lost',
    topupChoose: 'Choose an amount',
    topupInsert: 'Amount:',
    topupConfirm: 'Start top-up',
    cancel: 'Cancel',
    lossTitle: 'Report this card lost?',
    lossText: 'The card stops working at once (rides, payments, top-ups). Its balance is kept and moves to a replacement card issued at a service counter.',
    lossConfirm: 'Report lost',
    history: 'Recent transactions',
    more: 'More',
    privacy: 'For your privacy, the card number and name are partly hidden. Please log out when you leave.',
    langButton: '中文',
    noHistory: 'No transactions yet',
    loggingIn: 'Logging in…',
    wrongPin: (n) => `Card number or PIN incorrect. ${n} ${n === 1 ? 'try' : 'tries'} left before login is locked for 15 minutes.`,
    locked: (m) => `Too many wrong PINs: login is locked. Try again in ${m} min, or ask at a service counter.`,
    rateLimited: (s) => `Too many attempts. Try again in ${s} s.`,
    badCard: 'This card number is not valid. Please check it.',
    network: 'Network problem. Please try again.',
    error: 'The system is busy. Please try again.',
    sessionEnded: 'Your session ended. Please log in again.',
    idleLogout: 'Logged out after a period of inactivity.',
    topupOk: (a, b) => `Topped up ${a}. New balance ${b}.`,
    topupDeclined: (c) => `Top-up declined (code ${c}).`,
    topupRetry: 'Top-up result unknown: press “Start top-up” again (you will not be charged twice).',
    topupWaiting: (id) => `Insert cash or use a bank card at this kiosk; the top-up is credited once paid. Order ${id}`,
    topupExpired: 'The top-up order was cancelled or expired; nothing was charged.',
    topupTooMany: 'Too many open top-up orders; please try again later.',
    lossOk: 'Card reported lost and stopped. Bring your ID to a service counter for a replacement.',
    lossAlready: 'This card is already reported lost or blocked.',
    kinds: {
      topup: 'Top-up',
      payment: 'Payment',
      'payment-reversal': 'Payment reversed',
      refund: 'Refund',
      tap: 'Ride',
      'medical-credit': 'Medical allocation',
      'medical-settle': 'Medical bill',
      'medical-cancel': 'Medical bill cancelled',
      'card-replace': 'Balance moved (replacement)',
    },
    cardTypes: { adult: 'Adult', student: 'Student', senior: 'Senior', disabled: 'Disabled' },
    statuses: { active: 'Active', lost: 'Reported lost', blocked: 'Blocked' },
    accounts: { purse: 'purse', medical: 'medical' },
    channels: { kiosk: 'kiosk', bank: 'bank', app: 'app', counter: 'counter' },
  },
};

let lang = 'zh';

export function currentLang() {
  return lang;
}

/** Text for a key; functions are called with the arguments. */
export function t(key, ...args) {
  const value = texts[lang][key];
  return typeof value === 'function' ? value(...args) : (value ?? key);
}

export function label(group, key) {
  return texts[lang][group]?.[key] ?? key;
}

/** Switches the language and rewrites every data-i18n element. */
export function setLang(next, root = document) {
  lang = next === 'en' ? 'en' : 'zh';
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = lang === 'zh' ? '市民卡自助服务 · Citizen Card Kiosk' : 'Citizen Card Kiosk · 市民卡自助服务';
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.getAttribute('data-i18n'));
}

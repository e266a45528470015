// JSON calls to the server's API; errors come back as problem+json and are returned, not thrown.

/**
 * @param {string} path
 * @param {{method?: string, token?: string|null, body?: unknown}} [options]
 * @returns {Promise<{ok: boolean, status: number, data: any, retryAfter: string|null}>}
 */
export async function api(path, options = {}) {
  const headers = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const init = { method: options.method ?? 'GET', headers, cache: 'no-store' };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, data: null, retryAfter: null };
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  return { ok: res.ok, status: res.status, data, retryAfter: res.headers.get('retry-after') };
}

/**
 * What went wrong with a call, for a person: a server that cannot be reached is said so (fetch
 * gives no HTTP status then), otherwise the status and the problem's title and detail.
 * @param {string} path
 * @param {{status: number, data: any}} res
 */
export function failureText(path, res) {
  if (res.status === 0) return `The server at ${location.origin} cannot be reached (stopped, restarting or no network); retrying.`;
  const problem = res.data && typeof res.data === 'object' ? [res.data.title, res.data.detail].filter(Boolean).join(': ') : '';
  return `${path} answered ${res.status}${problem ? ` (${problem})` : ''}.`;
}

/** A random client id (idempotency key); crypto.randomUUID needs a secure context, this does not. */
export function newClientId(prefix) {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

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

/** A random client id (idempotency key); crypto.randomUUID needs a secure context, this does not. */
export function newClientId(prefix) {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

// The reader's link to the back office: the three calls a transit terminal makes, with a timeout.
// A refused connection, a timeout or a 503 means "offline"; any other answer is the server's.
// An enrolled reader calls over mutual TLS (HTTPS_PORT) with its certificate; else with its API key.
import https from 'node:https';
import type { TlsIdentity } from './enroll.js';

export const requestTimeoutMs = 3_000;

export class OfflineError extends Error {
  override name = 'OfflineError';
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export class ReaderClient {
  private readonly agent: https.Agent | null;

  constructor(
    readonly server: string,
    private readonly apiKey: string | null,
    private readonly timeoutMs = requestTimeoutMs,
    identity: TlsIdentity | null = null,
  ) {
    this.agent = identity ? new https.Agent({ key: identity.key, cert: identity.cert, ca: identity.ca, keepAlive: true }) : null;
  }

  postTap(tap: Record<string, unknown>): Promise<Answer> {
    return this.call('POST', '/v1/taps', tap);
  }

  /** `hotlistVersion`: the hotlist the reader held while it took these taps (what it could have known). */
  postBatch(taps: Record<string, unknown>[], hotlistVersion: number): Promise<Answer> {
    return this.call('POST', '/v1/taps/batch', { taps, hotlistVersion });
  }

  getBudgets(since: number): Promise<Answer> {
    return this.call('GET', `/v1/offline-budgets?since=${since}`);
  }

  getHotlist(since: number): Promise<Answer> {
    return this.call('GET', `/v1/hotlist?since=${since}`);
  }

  close(): void {
    this.agent?.destroy();
  }

  private async call(method: string, url: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let status: number;
    let text: string;
    try {
      if (this.agent) {
        ({ status, text } = await this.httpsCall(method, url, headers, payload));
      } else {
        const res = await fetch(`${this.server}${url}`, { method, headers, ...(payload === undefined ? {} : { body: payload }), signal: AbortSignal.timeout(this.timeoutMs) });
        status = res.status;
        text = await res.text();
      }
    } catch (error) {
      throw new OfflineError(`${method} ${url}: ${(error as Error).message}`);
    }
    if (status === 503 || status === 502 || status === 504) throw new OfflineError(`${method} ${url}: HTTP ${status}`);
    let json: Record<string, unknown>;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { raw: text.slice(0, 200) };
    }
    return { status, body: json };
  }

  /** node:https with the reader's client certificate (fetch cannot present one without undici). */
  private httpsCall(method: string, url: string, headers: Record<string, string>, payload: string | undefined): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(new URL(`${this.server}${url}`), { method, headers, agent: this.agent!, timeout: this.timeoutMs }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`timeout after ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

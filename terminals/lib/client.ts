// The reader's link to the back office: the three calls a transit terminal makes, with a timeout.
// A refused connection, a timeout or a 503 means "offline"; any other answer is the server's.
export const requestTimeoutMs = 3_000;

export class OfflineError extends Error {
  override name = 'OfflineError';
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export class ReaderClient {
  constructor(
    readonly server: string,
    private readonly apiKey: string,
    private readonly timeoutMs = requestTimeoutMs,
  ) {}

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

  private async call(method: string, url: string, body?: unknown): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(`${this.server}${url}`, {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new OfflineError(`${method} ${url}: ${(error as Error).message}`);
    }
    if (res.status === 503 || res.status === 502 || res.status === 504) throw new OfflineError(`${method} ${url}: HTTP ${res.status}`);
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { raw: text.slice(0, 200) };
    }
    return { status: res.status, body: json };
  }
}

// A lean HTTP/1.1 keep-alive client for the load runner: a bounded pool of raw TCP connections to
// 127.0.0.1, one request in flight per connection, a FIFO of waiting requests. Far cheaper per
// request than node:http, which matters when the generator shares 2 cores with the server.
import net from 'node:net';

export const connectionsMax = 512;
export const responseBytesMax = 1024 * 1024;

export interface HttpAnswer {
  status: number;
  body: Buffer;
}

interface Job {
  head: string;
  body: Buffer | null;
  resolve: (answer: HttpAnswer) => void;
  reject: (error: Error) => void;
  deadline: number;
}

export interface HttpPoolOptions {
  host: string;
  port: number;
  connections: number;
  timeoutMs: number;
}

class Connection {
  private socket: net.Socket;
  private chunks: Buffer[] = [];
  private bytes = 0;
  private job: Job | null = null;
  private timer: NodeJS.Timeout | null = null;
  dead = false;

  constructor(
    private readonly pool: HttpPool,
    options: HttpPoolOptions,
  ) {
    this.socket = net.connect({ host: options.host, port: options.port, noDelay: true });
    this.socket.on('data', (data: Buffer) => this.onData(data));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  get idle(): boolean {
    return this.job === null && !this.dead;
  }

  send(job: Job): void {
    this.job = job;
    const wait = Math.max(1, job.deadline - Date.now());
    this.timer = setTimeout(() => this.fail(new Error('timeout')), wait);
    if (job.body) this.socket.write(Buffer.concat([Buffer.from(job.head, 'latin1'), job.body]));
    else this.socket.write(job.head, 'latin1');
  }

  private onData(data: Buffer): void {
    this.chunks.push(data);
    this.bytes += data.length;
    if (this.bytes > responseBytesMax) return this.fail(new Error('response too large'));
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [all];
    const headEnd = all.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = all.subarray(0, headEnd).toString('latin1');
    const status = Number(head.slice(9, 12));
    const match = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!match) return this.fail(new Error('response without content-length'));
    const length = Number(match[1]);
    const end = headEnd + 4 + length;
    if (all.length < end) return;
    const job = this.job;
    this.reset();
    // Bytes past the answer (nothing was pipelined) or `connection: close`: do not reuse the socket.
    if (all.length > end || /\r\nconnection:\s*close/i.test(head)) this.close();
    if (job) job.resolve({ status, body: all.subarray(headEnd + 4, end) });
    this.pool.released(this);
  }

  private reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.job = null;
    this.chunks = [];
    this.bytes = 0;
  }

  private fail(error: Error): void {
    const job = this.job;
    this.reset();
    this.close();
    if (job) job.reject(error);
    this.pool.released(this);
  }

  close(): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
  }
}

export class HttpPool {
  private readonly connections = new Set<Connection>();
  private readonly idle: Connection[] = [];
  private readonly waiting: Job[] = [];
  private readonly hostHeader: string;
  private closed = false;

  constructor(private readonly options: HttpPoolOptions) {
    if (options.connections < 1 || options.connections > connectionsMax) throw new RangeError(`connections must be 1..${connectionsMax}`);
    if (options.host !== '127.0.0.1' && options.host !== 'localhost' && options.host !== '::1') throw new Error('the load runner only targets the local machine');
    this.hostHeader = `${options.host}:${options.port}`;
  }

  /** Requests waiting for a free connection (queueing in the client counts in their latency). */
  get queued(): number {
    return this.waiting.length;
  }

  request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<HttpAnswer> {
    if (this.closed) return Promise.reject(new Error('pool closed'));
    const payload = body === undefined ? null : Buffer.from(body, 'utf8');
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nConnection: keep-alive\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    if (payload) head += `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n`;
    head += '\r\n';
    return new Promise<HttpAnswer>((resolve, reject) => {
      const job: Job = { head, body: payload, resolve, reject, deadline: Date.now() + this.options.timeoutMs };
      const connection = this.take();
      if (connection) connection.send(job);
      else this.waiting.push(job);
    });
  }

  private take(): Connection | null {
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (c.idle) return c;
    }
    if (this.connections.size < this.options.connections) {
      const c = new Connection(this, this.options);
      this.connections.add(c);
      return c;
    }
    return null;
  }

  /** Called by a connection when its request is done (answered or failed). */
  released(connection: Connection): void {
    if (connection.dead) this.connections.delete(connection);
    else this.idle.push(connection);
    while (this.waiting.length > 0) {
      const job = this.waiting[0]!;
      if (Date.now() > job.deadline) {
        this.waiting.shift();
        job.reject(new Error('timeout'));
        continue;
      }
      const next = this.take();
      if (!next) return;
      this.waiting.shift();
      next.send(job);
    }
  }

  close(): void {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('pool closed'));
    for (const c of this.connections) c.close();
    this.connections.clear();
  }
}

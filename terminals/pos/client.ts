// A pipelining ISO 8583 client over TCP: frames requests, matches answers to requests by STAN
// (F11), and can send raw bytes for tests of malformed input. Used by the POS program, the load
// scenario and the integration tests.
import net from 'node:net';
import tls from 'node:tls';
import { decodeMessage, encodeMessage, encodeMessageWithMac, type FieldValue, type IsoMessage } from '../../src/adapters/iso8583/codec.js';
import { Deframer, frame } from '../../src/adapters/iso8583/framing.js';
import { retailMac } from '../../src/adapters/iso8583/mac.js';

export const answerTimeoutMsDefault = 10_000;

export interface Outgoing {
  mti: string;
  fields: ReadonlyMap<number, FieldValue> | [number, FieldValue][];
}

export class IsoClient {
  private readonly deframer = new Deframer();
  private readonly waiting = new Map<string, { resolve: (m: IsoMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  /** Answers nobody waited for (or undecodable), in arrival order: for tests. */
  readonly unmatched: (IsoMessage | Buffer)[] = [];
  private closedError: Error | null = null;
  private readonly closeWaiters: (() => void)[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static connect(host: string, port: number): Promise<IsoClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => {
        socket.off('error', reject);
        resolve(new IsoClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /**
   * Over mutual TLS (ISO_TLS_PORT): `tlsOptions` carries the terminal's key and certificate and the
   * CA that signed the server's. Rejects when the server refuses the handshake.
   */
  static connectTls(host: string, port: number, tlsOptions: tls.ConnectionOptions): Promise<IsoClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...tlsOptions }, () => {
        socket.off('error', reject);
        resolve(new IsoClient(socket));
      });
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Resolves when the server closes the connection. */
  whenClosed(): Promise<void> {
    if (this.closedError) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** Sends a message (MAC'd under `mak` when given) and resolves with the answer carrying its STAN. */
  request(msg: Outgoing, mak?: Buffer, timeoutMs = answerTimeoutMsDefault): Promise<IsoMessage> {
    const fields = msg.fields instanceof Map ? msg.fields : new Map(msg.fields);
    const stan = fields.get(11);
    if (typeof stan !== 'string') return Promise.reject(new Error('a request needs field 11 (STAN) to be matched'));
    const bytes = mak ? encodeMessageWithMac({ mti: msg.mti, fields }, (input) => retailMac(mak, input)) : encodeMessage({ mti: msg.mti, fields });
    return this.requestBytes(bytes, stan, timeoutMs);
  }

  /** Sends pre-encoded bytes and waits for the answer with this STAN. */
  requestBytes(message: Buffer, stan: string, timeoutMs = answerTimeoutMsDefault): Promise<IsoMessage> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.waiting.has(stan)) return Promise.reject(new Error(`STAN ${stan} already in flight`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(stan);
        reject(new Error(`no answer for STAN ${stan} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(stan, { resolve, reject, timer });
      this.socket.write(frame(message));
    });
  }

  /** Writes bytes as they are (no frame added): for malformed-input tests. */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits until `count` unmatched answers have arrived (or the connection closed / timed out). */
  async waitUnmatched(count: number, timeoutMs = answerTimeoutMsDefault): Promise<(IsoMessage | Buffer)[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.unmatched.length < count && !this.closedError && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return this.unmatched;
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.deframer.push(chunk);
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
      return;
    }
    for (const raw of messages) {
      let msg: IsoMessage;
      try {
        msg = decodeMessage(raw);
      } catch {
        this.unmatched.push(raw);
        continue;
      }
      const stan = msg.fields.get(11);
      const waiter = typeof stan === 'string' ? this.waiting.get(stan) : undefined;
      if (!waiter || typeof stan !== 'string') {
        this.unmatched.push(msg);
        continue;
      }
      this.waiting.delete(stan);
      clearTimeout(waiter.timer);
      waiter.resolve(msg);
    }
  }

  private fail(error: Error): void {
    if (!this.closedError) this.closedError = error;
    for (const [stan, waiter] of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
      this.waiting.delete(stan);
    }
    for (const done of this.closeWaiters.splice(0)) done();
  }
}

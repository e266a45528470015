// The ISO 8583 TCP server: 2-byte length framing, per-connection limits, and pipelining (requests
// on one connection run concurrently and are answered as they complete; the terminal matches them
// by STAN). A connection's failure never reaches another connection or the process.
import net from 'node:net';
import { Deframer, FramingError, frame } from './framing.js';
import { messageBytesMax } from './spec.js';
import { Code, type ResponseCode } from '../../domain/codes.js';
import type { Logger } from '../../platform/logger.js';

export interface IsoServerLimits {
  /** Largest message accepted (the framing refuses larger declared lengths and closes). */
  messageBytesMax: number;
  /** Open connections; further ones are refused by the kernel listener (node's maxConnections). */
  connectionsMax: number;
  /**
   * Requests of one connection being processed at once; beyond it a request is answered 91 at once
   * (overload, as HTTP answers 503/91 under pressure), not processed and not recorded.
   */
  inflightPerConnectionMax: number;
  /** A connection with nothing in flight and no bytes for this long is closed. */
  idleTimeoutMs: number;
  /** Answers queued for a client that does not read; beyond it the connection is closed. */
  writeBufferBytesMax: number;
  /** On close: how long running requests may take before their connections are cut. */
  drainTimeoutMs: number;
}

export const defaultIsoLimits: IsoServerLimits = {
  messageBytesMax,
  connectionsMax: 2_000,
  inflightPerConnectionMax: 256,
  idleTimeoutMs: 300_000,
  writeBufferBytesMax: 1024 * 1024,
  drainTimeoutMs: 5_000,
};

/**
 * Who is on a connection: the terminal of its client certificate (mTLS listener, `certified`), or
 * on a plain connection the terminal its first identified message named (so a block can close it).
 */
export interface IsoPeer {
  terminalId: string | null;
  certified: boolean;
}

/** What the server needs from the request pipeline. */
export interface IsoMessageHandler {
  /** The answer to one message (without frame), or null to close the connection. */
  handle(message: Buffer, peer?: IsoPeer): Promise<Buffer | null>;
  /** An immediate refusal with this code, or null to close. */
  refuse(message: Buffer, code: ResponseCode): Buffer | null;
}

interface Connection {
  id: number;
  socket: net.Socket;
  deframer: Deframer;
  inflight: number;
  closing: boolean;
  peer: IsoPeer;
}

export class IsoServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly running = new Set<Promise<void>>();
  private nextId = 1;
  private boundPort = 0;

  constructor(
    private readonly handler: IsoMessageHandler,
    private readonly log: Logger,
    private readonly limits: IsoServerLimits = defaultIsoLimits,
  ) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.serve(socket));
    this.server.maxConnections = limits.connectionsMax;
    this.server.on('error', (error) => this.log.error({ err: error }, 'iso: server error'));
    this.server.on('drop', () => this.log.warn({ connectionsMax: limits.connectionsMax }, 'iso: connection refused at the maximum'));
  }

  /** The bound port (the ephemeral one when listening on 0). */
  get port(): number {
    return this.boundPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as net.AddressInfo).port;
    return this.boundPort;
  }

  /** Stops accepting, lets running requests finish (bounded), then closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const drained = Promise.allSettled([...this.running]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, this.limits.drainTimeoutMs)))]);
    clearTimeout(timer);
    for (const conn of this.connections) conn.socket.destroy();
    await closed;
  }

  /** Closes every connection of this terminal (it was blocked). */
  closeTerminal(terminalId: string): number {
    let closed = 0;
    for (const conn of this.connections) {
      if (conn.peer.terminalId !== terminalId) continue;
      this.drop(conn, 'terminal blocked');
      closed++;
    }
    return closed;
  }

  /**
   * Serves a connected socket: the plain listener's, or one the mTLS listener accepted, with the
   * terminal of its verified client certificate (every message's F41 must then be that terminal).
   */
  serve(socket: net.Socket, certifiedTerminalId?: string): void {
    const peer: IsoPeer = { terminalId: certifiedTerminalId ?? null, certified: certifiedTerminalId !== undefined };
    const conn: Connection = { id: this.nextId++, socket, deframer: new Deframer(), inflight: 0, closing: false, peer };
    this.connections.add(conn);
    socket.setTimeout(this.limits.idleTimeoutMs);
    socket.on('timeout', () => {
      if (conn.inflight === 0) this.drop(conn, 'idle timeout');
    });
    socket.on('data', (chunk: Buffer) => this.receive(conn, chunk));
    socket.on('error', (error) => this.log.debug({ conn: conn.id, err: error.message }, 'iso: socket error'));
    socket.on('close', () => this.connections.delete(conn));
    this.log.debug({ conn: conn.id, remote: socket.remoteAddress, terminalId: peer.terminalId }, 'iso: connection');
  }

  private receive(conn: Connection, chunk: Buffer): void {
    if (conn.closing) return;
    let messages: Buffer[];
    try {
      messages = conn.deframer.push(chunk);
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.drop(conn, `bad frame length ${error.declaredBytes}`);
      return;
    }
    for (const message of messages) {
      if (message.length > this.limits.messageBytesMax) {
        this.drop(conn, `message of ${message.length} bytes above ${this.limits.messageBytesMax}`);
        return;
      }
      if (conn.inflight >= this.limits.inflightPerConnectionMax) {
        this.reply(conn, this.safeRefuse(message));
        continue;
      }
      conn.inflight++;
      const work = this.process(conn, message).finally(() => {
        conn.inflight--;
        this.running.delete(work);
      });
      this.running.add(work);
    }
  }

  private async process(conn: Connection, message: Buffer): Promise<void> {
    let out: Buffer | null;
    try {
      out = await this.handler.handle(message, conn.peer);
    } catch (error) {
      // The pipeline answers its own failures; reaching here is a bug. The connection goes, not the process.
      this.log.error({ conn: conn.id, err: error }, 'iso: handler threw; closing the connection');
      out = null;
    }
    this.reply(conn, out);
  }

  private safeRefuse(message: Buffer): Buffer | null {
    try {
      return this.handler.refuse(message, Code.issuerInoperative);
    } catch (error) {
      this.log.error({ err: error }, 'iso: refusal failed');
      return null;
    }
  }

  private reply(conn: Connection, out: Buffer | null): void {
    if (conn.closing || conn.socket.destroyed) return;
    if (out === null) {
      this.drop(conn, 'unanswerable message');
      return;
    }
    if (conn.socket.writableLength > this.limits.writeBufferBytesMax) {
      this.drop(conn, 'client does not read its answers');
      return;
    }
    conn.socket.write(frame(out));
  }

  private drop(conn: Connection, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    this.log.info({ conn: conn.id, reason }, 'iso: closing connection');
    // end() sends what was written already (e.g. an answer before the bad frame), then FIN.
    conn.socket.end();
    setTimeout(() => conn.socket.destroy(), 1_000).unref();
  }
}

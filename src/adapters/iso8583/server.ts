// The ISO 8583 TCP server: 2-byte length framing, per-connection limits, and pipelining (requests
// on one connection run concurrently and are answered as they complete; the terminal matches them
// by STAN). A connection's failure never reaches another connection or the process.
// Connections that have not yet sent a MAC-valid message are strangers: they get a short deadline,
// and at the connection maximum the oldest stranger makes room for a new connection.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Deframer, FramingError, frame } from './framing.js';
import { LogBudget } from './log-budget.js';
import { messageBytesMax } from './spec.js';
import { Code, type ResponseCode } from '../../domain/codes.js';
import type { Logger } from '../../platform/logger.js';

export interface IsoServerLimits {
  /** Largest message accepted (the framing refuses larger declared lengths and closes). */
  messageBytesMax: number;
  /**
   * Open connections. At the maximum a new connection first sheds the oldest connection that has not
   * sent a MAC-valid message yet; when every open one has, the new one is closed at once.
   */
  connectionsMax: number;
  /**
   * Requests of one connection being processed at once; beyond it a request is answered 91 at once
   * (overload, as HTTP answers 503/91 under pressure), not processed and not recorded.
   */
  inflightPerConnectionMax: number;
  /** A connection with nothing in flight and no bytes for this long is closed. */
  idleTimeoutMs: number;
  /** A connection that has not sent one complete, MAC-valid message within this is closed (DESIGN §11). */
  authTimeoutMs: number;
  /** Answers queued for a client that does not read; beyond it the connection is closed. */
  writeBufferBytesMax: number;
  /** On close: how long running requests may take before their connections are cut. */
  drainTimeoutMs: number;
  /** Log lines about one connection's bad input (malformed, bad MAC, closed for it) per minute. */
  badInputLogsPerConnectionMax: number;
  /** The same across all connections, per second; what is over either budget is only counted. */
  badInputLogsPerSecondMax: number;
}

export const defaultIsoLimits: IsoServerLimits = {
  messageBytesMax,
  connectionsMax: 2_000,
  inflightPerConnectionMax: 256,
  idleTimeoutMs: 300_000,
  authTimeoutMs: 10_000,
  writeBufferBytesMax: 1024 * 1024,
  drainTimeoutMs: 5_000,
  badInputLogsPerConnectionMax: 10,
  badInputLogsPerSecondMax: 20,
};

/** The window of the per-connection log budget. */
const connectionLogWindowMs = 60_000;
/** How often, at most, one line reports the number of log lines dropped meanwhile. */
const droppedReportIntervalMs = 10_000;

/**
 * Who is on a connection: the terminal of its client certificate (mTLS listener, `certified`), or
 * on a plain connection the terminal its first identified message named (so a block can close it).
 */
export interface IsoPeer {
  terminalId: string | null;
  certified: boolean;
}

/** What the pipeline learns about the connection a message came on. */
export interface IsoConnectionContext {
  readonly id: number;
  /** Absent for callers outside a server connection (tests driving the pipeline directly). */
  readonly peer?: IsoPeer;
  /** Whether one more warning about this connection's input may be logged now (else it is counted as dropped). */
  mayLog(): boolean;
}

/** The pipeline's answer to one message. */
export interface IsoHandled {
  /** The answer (without frame), or null to close the connection. */
  answer: Buffer | null;
  /** The message carried a MAC that verified: the connection belongs to a terminal. */
  authenticated: boolean;
}

/** What the server needs from the request pipeline. */
export interface IsoMessageHandler {
  handle(message: Buffer, conn: IsoConnectionContext): Promise<IsoHandled>;
  /** An immediate refusal with this code, or null to close. */
  refuse(message: Buffer, code: ResponseCode, conn: IsoConnectionContext): Buffer | null;
}

interface Connection {
  id: number;
  socket: net.Socket;
  deframer: Deframer;
  inflight: number;
  closing: boolean;
  authenticated: boolean;
  authTimer: NodeJS.Timeout | null;
  context: IsoConnectionContext;
}

export class IsoServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  /** Open connections without a MAC-valid message yet, oldest first (a Set keeps insertion order). */
  private readonly strangers = new Set<Connection>();
  private readonly running = new Set<Promise<void>>();
  private readonly globalLogs: LogBudget;
  private nextId = 1;
  private boundPort = 0;
  private droppedSinceReport = 0;
  private lastDroppedReportMs = Number.NEGATIVE_INFINITY;
  private reportTimer: NodeJS.Timeout | null = null;
  /** Log lines about bad input left out by the budgets, since start (metrics, tests). */
  logLinesDropped = 0;
  /** Strangers closed to make room for a new connection, and connections refused at the maximum. */
  shedCount = 0;
  refusedCount = 0;

  constructor(
    private readonly handler: IsoMessageHandler,
    private readonly log: Logger,
    private readonly limits: IsoServerLimits = defaultIsoLimits,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.globalLogs = new LogBudget(limits.badInputLogsPerSecondMax, 1_000, nowMs);
    // No node maxConnections: the server itself decides, so that it can shed strangers first.
    this.server = net.createServer({ noDelay: true }, (socket) => this.adopt(socket));
    this.server.on('error', (error) => this.log.error({ err: error }, 'iso: server error'));
  }

  /** The bound port (the ephemeral one when listening on 0). */
  get port(): number {
    return this.boundPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Open connections that have not sent a MAC-valid message yet. */
  get strangerCount(): number {
    return this.strangers.size;
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
    if (this.reportTimer) {
      clearTimeout(this.reportTimer);
      this.reportDropped(); // the count is not lost at shutdown
    }
    for (const conn of this.connections) conn.socket.destroy();
    await closed;
  }

  /** Closes every connection of this terminal (it was blocked). */
  closeTerminal(terminalId: string): number {
    let closed = 0;
    for (const conn of this.connections) {
      if (conn.context.peer?.terminalId !== terminalId) continue;
      this.drop(conn, 'terminal blocked');
      closed++;
    }
    return closed;
  }

  /**
   * Takes over one connected socket: the plain listener's, or one a TLS listener has accepted and
   * handshaken (every limit and the connection maximum are shared by both), with the terminal of
   * its verified client certificate (every message's F41 must then be that terminal).
   */
  adopt(socket: net.Socket, certifiedTerminalId?: string): void {
    if (this.connections.size >= this.limits.connectionsMax && !this.shedStranger()) {
      this.refusedCount++;
      if (this.mayLogGlobal()) this.log.warn({ connectionsMax: this.limits.connectionsMax }, 'iso: connection refused at the maximum');
      socket.destroy();
      return;
    }
    const id = this.nextId++;
    const budget = new LogBudget(this.limits.badInputLogsPerConnectionMax, connectionLogWindowMs, this.nowMs);
    const conn: Connection = {
      id,
      socket,
      deframer: new Deframer(),
      inflight: 0,
      closing: false,
      authenticated: false,
      authTimer: null,
      context: { id, peer: { terminalId: certifiedTerminalId ?? null, certified: certifiedTerminalId !== undefined }, mayLog: () => this.mayLog(budget) },
    };
    this.connections.add(conn);
    this.strangers.add(conn);
    conn.authTimer = setTimeout(() => {
      if (!conn.authenticated) this.drop(conn, `no MAC-valid message within ${this.limits.authTimeoutMs} ms`, true);
    }, this.limits.authTimeoutMs);
    conn.authTimer.unref();
    socket.setTimeout(this.limits.idleTimeoutMs);
    socket.on('timeout', () => {
      if (conn.inflight === 0) this.drop(conn, 'idle timeout');
    });
    socket.on('data', (chunk: Buffer) => this.receive(conn, chunk));
    socket.on('error', (error) => this.log.debug({ conn: conn.id, err: error.message }, 'iso: socket error'));
    socket.on('close', () => this.forget(conn));
    this.log.debug({ conn: conn.id, remote: socket.remoteAddress, terminalId: certifiedTerminalId }, 'iso: connection');
  }

  /** Closes the oldest stranger, preferring one with nothing in flight; false when there is none. */
  private shedStranger(): boolean {
    let victim: Connection | undefined;
    for (const conn of this.strangers) {
      if (conn.inflight === 0) {
        victim = conn;
        break;
      }
      victim ??= conn;
    }
    if (!victim) return false;
    this.shedCount++;
    if (this.mayLogGlobal()) this.log.info({ conn: victim.id, connectionsMax: this.limits.connectionsMax }, 'iso: unauthenticated connection shed at the maximum');
    victim.closing = true;
    victim.socket.destroy();
    this.forget(victim); // now, not at its close event: the new connection takes its place at once
    return true;
  }

  private forget(conn: Connection): void {
    this.connections.delete(conn);
    this.strangers.delete(conn);
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = null;
  }

  private authenticated(conn: Connection): void {
    if (conn.authenticated) return;
    conn.authenticated = true;
    this.strangers.delete(conn);
    if (conn.authTimer) clearTimeout(conn.authTimer);
    conn.authTimer = null;
  }

  private receive(conn: Connection, chunk: Buffer): void {
    if (conn.closing) return;
    let messages: Buffer[];
    try {
      messages = conn.deframer.push(chunk);
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.drop(conn, `bad frame length ${error.declaredBytes}`, true);
      return;
    }
    for (const message of messages) {
      if (message.length > this.limits.messageBytesMax) {
        this.drop(conn, `message of ${message.length} bytes above ${this.limits.messageBytesMax}`, true);
        return;
      }
      if (conn.inflight >= this.limits.inflightPerConnectionMax) {
        this.reply(conn, this.safeRefuse(conn, message));
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
      const handled = await this.handler.handle(message, conn.context);
      if (handled.authenticated) this.authenticated(conn);
      out = handled.answer;
    } catch (error) {
      // The pipeline answers its own failures; reaching here is a bug. The connection goes, not the process.
      this.log.error({ conn: conn.id, err: error }, 'iso: handler threw; closing the connection');
      out = null;
    }
    this.reply(conn, out);
  }

  private safeRefuse(conn: Connection, message: Buffer): Buffer | null {
    try {
      return this.handler.refuse(message, Code.issuerInoperative, conn.context);
    } catch (error) {
      this.log.error({ err: error }, 'iso: refusal failed');
      return null;
    }
  }

  private reply(conn: Connection, out: Buffer | null): void {
    if (conn.closing || conn.socket.destroyed) return;
    if (out === null) {
      this.drop(conn, 'unanswerable message', true);
      return;
    }
    if (conn.socket.writableLength > this.limits.writeBufferBytesMax) {
      this.drop(conn, 'client does not read its answers');
      return;
    }
    conn.socket.write(frame(out));
  }

  /** `badInput`: the sender's fault, so the line is within the log budgets. */
  private drop(conn: Connection, reason: string, badInput = false): void {
    if (conn.closing) return;
    conn.closing = true;
    if (!badInput || conn.context.mayLog()) this.log.info({ conn: conn.id, reason }, 'iso: closing connection');
    // end() sends what was written already (e.g. an answer before the bad frame), then FIN.
    conn.socket.end();
    setTimeout(() => conn.socket.destroy(), 1_000).unref();
  }

  private mayLog(connection: LogBudget): boolean {
    return this.counted(connection.take() && this.globalLogs.take());
  }

  private mayLogGlobal(): boolean {
    return this.counted(this.globalLogs.take());
  }

  /** Counts a line left out; one line reports the count, at most once per interval (that line is outside the budgets). */
  private counted(allowed: boolean): boolean {
    if (allowed) return true;
    this.logLinesDropped++;
    this.droppedSinceReport++;
    if (!this.reportTimer) {
      const waitMs = Math.max(0, this.lastDroppedReportMs + droppedReportIntervalMs - this.nowMs());
      this.reportTimer = setTimeout(() => this.reportDropped(), waitMs);
      this.reportTimer.unref();
    }
    return false;
  }

  private reportDropped(): void {
    this.reportTimer = null;
    this.lastDroppedReportMs = this.nowMs();
    if (this.droppedSinceReport === 0) return;
    this.log.warn({ dropped: this.droppedSinceReport, droppedTotal: this.logLinesDropped }, 'iso: log lines about bad input dropped (over the budget)');
    this.droppedSinceReport = 0;
  }
}

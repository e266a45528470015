// Authentication of every caller: the admin token, a terminal's API key (stored hashed, cached
import '@fastify/jwt';
// briefly), or a citizen's JWT. Guards answer 401 (unknown caller) or 403 (wrong kind of caller).
import { timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { terminalContextOf, type Caller, type TerminalContext } from '../../app/terminal.js';
import type { Registry } from '../postgres/registry.js';
import { sha256 } from '../../platform/secrets.js';
import { sendProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
    /** Why a presented credential was refused (the 401 says it). */
    authRefusal: string | null;
  }
}

export const terminalCacheMs = 30_000;
export const terminalCacheMax = 100_000;

export interface AuthOptions {
  adminToken: string;
  registry: Registry;
  /** The terminal of a TLS socket's client certificate (HTTPS_PORT), null when refused. */
  tlsTerminalOf?: (socket: TLSSocket) => Promise<string | null>;
  /** TERMINAL_TLS_ONLY: terminal API keys are refused on the plain port. */
  terminalTlsOnly?: boolean;
}

export class TerminalDirectory {
  private readonly byHash = new Map<string, { at: number; terminal: TerminalContext | null }>();
  private readonly byIdCache = new Map<string, { at: number; terminal: TerminalContext | null }>();

  constructor(private readonly registry: Registry) {}

  async byApiKey(apiKey: string): Promise<TerminalContext | null> {
    const hash = sha256(apiKey);
    const key = hash.toString('base64');
    const hit = this.byHash.get(key);
    if (hit && Date.now() - hit.at < terminalCacheMs) return hit.terminal;
    const row = await this.registry.terminalByKeyHash(hash);
    const terminal: TerminalContext | null = row && row.status === 'active' ? terminalContextOf(row) : null;
    if (this.byHash.size >= terminalCacheMax) this.byHash.clear();
    this.byHash.set(key, { at: Date.now(), terminal });
    return terminal;
  }

  /** The active terminal with this id (mTLS callers: the id is the certificate's CN), cached like keys. */
  async byId(terminalId: string): Promise<TerminalContext | null> {
    const hit = this.byIdCache.get(terminalId);
    if (hit && Date.now() - hit.at < terminalCacheMs) return hit.terminal;
    const row = await this.registry.terminal(terminalId);
    const terminal: TerminalContext | null = row && row.status === 'active' ? terminalContextOf(row) : null;
    if (this.byIdCache.size >= terminalCacheMax) this.byIdCache.clear();
    this.byIdCache.set(terminalId, { at: Date.now(), terminal });
    return terminal;
  }

  /**
   * A terminal's status changed (here or in another process, through TerminalEvents): its cached
   * entries go. Entries are keyed by API-key hash, so all are dropped; status changes are rare.
   */
  forget(terminalId: string): void {
    this.byHash.clear();
    this.byIdCache.delete(terminalId);
  }
}

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export const authPlugin = fp<AuthOptions & { terminals: TerminalDirectory }>(async (app: FastifyInstance, opts) => {
  app.decorateRequest('caller', null);
  app.decorateRequest('authRefusal', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const socket = request.raw.socket as TLSSocket;
    if (socket.encrypted) return callerOverMtls(request, socket);
    const header = request.headers.authorization;
    if (!header || !header.startsWith('Bearer ')) return;
    const token = header.slice('Bearer '.length).trim();
    if (token.length === 0 || token.length > 2048) return;
    if (sameSecret(token, opts.adminToken)) {
      request.caller = { type: 'admin' };
      return;
    }
    if (token.startsWith('cck_')) {
      if (opts.terminalTlsOnly) {
        request.authRefusal = 'terminals must call over mutual TLS (HTTPS_PORT); the plain port is closed to them';
        return;
      }
      const terminal = await opts.terminals.byApiKey(token);
      if (terminal) request.caller = { type: 'terminal', terminal };
      return;
    }
    if (token.split('.').length === 3) {
      try {
        const payload = await request.jwtVerify<{ sub: string; role: string }>();
        if (payload.role === 'citizen') request.caller = { type: 'citizen', cardNo: payload.sub };
      } catch {
        // an invalid or expired token is simply no caller: the guard answers 401
      }
    }
  });

  /** HTTPS: the client certificate is the terminal; a bearer token, if sent, must be the same terminal's. */
  async function callerOverMtls(request: FastifyRequest, socket: TLSSocket): Promise<void> {
    const terminalId = opts.tlsTerminalOf ? await opts.tlsTerminalOf(socket) : null;
    if (!terminalId) {
      request.authRefusal = 'client certificate refused (revoked, unknown or its terminal blocked)';
      return;
    }
    const terminal = await opts.terminals.byId(terminalId);
    if (!terminal) {
      request.authRefusal = `terminal ${terminalId} is not active`;
      return;
    }
    const header = request.headers.authorization;
    if (header !== undefined) {
      const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
      const byKey = token.startsWith('cck_') && token.length <= 2048 ? await opts.terminals.byApiKey(token) : null;
      if (!byKey || byKey.terminalId !== terminalId) {
        request.authRefusal = `the bearer token is not terminal ${terminalId}'s, whose certificate this connection presented`;
        return;
      }
    }
    request.caller = { type: 'terminal', terminal };
  }
});

type Kind = Caller['type'];

/** A preHandler that lets only the given kinds of caller through. */
export function allow(...kinds: Kind[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.caller) return sendProblem(reply, 401, '63', request.authRefusal ?? 'missing or invalid bearer token');
    if (!kinds.includes(request.caller.type)) return sendProblem(reply, 403, '58', `this call is not open to a ${request.caller.type} caller`);
  };
}

export function terminalOf(request: FastifyRequest): TerminalContext | null {
  return request.caller?.type === 'terminal' ? request.caller.terminal : null;
}

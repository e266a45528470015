// Terminal PKI area (docs/security.md, "Terminal certificates and mutual TLS"): the CA (loaded or
// created at start), its routes, terminal status changes spread over Redis, and the mTLS listeners:
// ISO 8583 over TLS on ISO_TLS_PORT and the same HTTP routes over HTTPS on HTTPS_PORT.
import https from 'node:https';
import type tls from 'node:tls';
import type net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AreaHooks } from './area.js';
import type { Core } from './core.js';
import type { IsoGateway } from './iso.js';
import { PkiStore } from '../adapters/postgres/pki-store.js';
import { TerminalPki, crlRefreshMs } from '../adapters/pki/terminal-pki.js';
import { MtlsGate, mtlsServerOptions } from '../adapters/pki/mtls.js';
import { TerminalEvents } from '../adapters/redis/terminal-events.js';
import { IsoTlsListener } from '../adapters/iso8583/tls-listener.js';
import { pkiRoutes } from '../adapters/http/routes/pki.js';
import { defaultIsoLimits } from '../adapters/iso8583/server.js';

export interface PkiArea {
  pki: TerminalPki;
  gate: MtlsGate;
  events: TerminalEvents;
  /** Bound ports of the mTLS listeners (0 until started or when the role does not serve them). */
  readonly isoTlsPort: number;
  readonly httpsPort: number;
}

export interface PkiArea extends PkiParts, AreaHooks {
  /** Bound ports of the mTLS listeners (0 until started or when the role does not serve them). */
  readonly isoTlsPort: number;
  readonly httpsPort: number;
}

/** The CA, the mTLS gate and the terminal events: built before the HTTP app, whose auth asks the gate. */
export interface PkiParts {
  pki: TerminalPki;
  gate: MtlsGate;
  events: TerminalEvents;
}

export function buildPki(system: Pick<Core, 'pool' | 'registry' | 'secrets' | 'clock' | 'log' | 'redis' | 'keys'>): PkiParts {
  const log = system.log.child({ area: 'pki' });
  const pki = new TerminalPki({ store: new PkiStore(system.pool), registry: system.registry, secrets: system.secrets, clock: system.clock, log });
  return { pki, gate: new MtlsGate(pki, log), events: new TerminalEvents(system.redis, system.keys.terminalEvents(), log) };
}

function listenHttps(server: https.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export type PkiAreaDeps = Pick<Core, 'config' | 'log' | 'terminals'> & {
  parts: PkiParts;
  /** The HTTP app, served again over HTTPS with client certificates. */
  http: FastifyInstance;
  /** The ISO gateway, served again over mutual TLS; its cached terminals and connections follow a block. */
  iso: Pick<IsoGateway, 'server' | 'terminals'>;
};

export function createPkiArea(system: PkiAreaDeps): PkiArea {
  const { pki, gate, events } = system.parts;
  let isoTls: IsoTlsListener | null = null;
  let httpsServer: https.Server | null = null;
  let isoTlsPort = 0;
  let httpsPort = 0;

  // The CRL in the listeners' TLS context makes a revoked certificate fail the handshake itself;
  // the gate's database check stays the authority (a process may not have refreshed yet).
  let tlsOptions: tls.TlsOptions | null = null;
  let crlTimer: NodeJS.Timeout | null = null;
  const refreshCrl = async () => {
    if (!tlsOptions || (!isoTls && !httpsServer)) return;
    try {
      const context = { ...tlsOptions, crl: await pki.crlPem() };
      isoTls?.setSecureContext(context);
      httpsServer?.setSecureContext(context);
    } catch (error) {
      system.log.error({ err: error }, 'pki: could not refresh the listeners\' CRL');
    }
  };

  // A blocked (or reactivated) terminal: every process drops its cached rows and cuts its connections.
  events.on((terminalId) => {
    void refreshCrl();
    system.terminals.forget(terminalId);
    system.iso.terminals.forget(terminalId);
    const closed = gate.closeTerminal(terminalId) + system.iso.server.closeTerminal(terminalId);
    if (closed > 0) system.log.info({ terminalId, closed }, 'pki: terminal connections closed');
  });
  const setStatus = async (terminalId: string, status: 'active' | 'blocked') => {
    const result = await pki.setStatus(terminalId, status);
    if (result.found) await events.changed(terminalId);
    // Here, the new CRL is in the listeners before the answer (other processes follow the event).
    if (result.revoked.length > 0) await refreshCrl();
    return result;
  };

  const role = system.config.role;
  const onStart = async () => {
    await pki.start();
    await events.start();
    if (role === 'worker') return;
    const options = mtlsServerOptions(await pki.serverCredentials(system.config.tlsServerHosts));
    const host = system.config.httpHost;
    if (role === 'all' || role === 'iso' || role === 'web') {
      isoTls = new IsoTlsListener(system.iso.server, gate, options, system.log, defaultIsoLimits.connectionsMax);
      isoTlsPort = await isoTls.listen(system.config.isoTlsPort, host);
      system.log.info({ port: isoTlsPort }, 'ISO 8583 over mutual TLS listening');
    }
    if (role === 'all' || role === 'api' || role === 'web') {
      await system.http.ready();
      // The same fastify routes, reached through an HTTPS server that requires client certificates.
      httpsServer = https.createServer(options, (req, res) => system.http.routing(req, res));
      httpsServer.on('tlsClientError', (error) => system.log.debug({ err: error.message }, 'https: handshake refused'));
      httpsPort = await listenHttps(httpsServer, system.config.httpsPort, host);
      system.log.info({ port: httpsPort }, 'HTTPS (mutual TLS) listening');
    }
    tlsOptions = options;
    await refreshCrl();
    crlTimer = setInterval(() => void refreshCrl(), crlRefreshMs);
    crlTimer.unref();
  };
  const onClose = async () => {
    if (crlTimer) clearInterval(crlTimer);
    const stopping: Promise<void>[] = [];
    // Not awaited: its connections belong to the ISO server, which closes them after this hook.
    if (isoTls) void isoTls.close();
    if (httpsServer) {
      const server = httpsServer;
      stopping.push(new Promise((resolve) => server.close(() => resolve())));
      server.closeAllConnections();
    }
    await events.close();
    await Promise.all(stopping);
  };
  return {
    pki,
    gate,
    events,
    get isoTlsPort() {
      return isoTlsPort;
    },
    get httpsPort() {
      return httpsPort;
    },
    async routes(app: FastifyInstance) {
      await app.register(pkiRoutes, { pki, setStatus });
    },
    onStart,
    onClose,
  };
}

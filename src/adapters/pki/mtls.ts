// Mutual TLS for the terminal listeners (ISO 8583 over TLS, HTTPS): the server options (a client
// certificate from the terminal CA is required) and the check of each connection's certificate
// against the CA's records (revoked, expired, terminal blocked), once per connection.
import type tls from 'node:tls';
import type { Logger } from '../../platform/logger.js';

/** A TLS handshake that has not finished within this is cut. */
export const handshakeTimeoutMs = 10_000;

export interface ServerCredentials {
  key: string;
  cert: string;
  ca: string;
}

export function mtlsServerOptions(creds: ServerCredentials): tls.TlsOptions {
  return {
    key: creds.key,
    cert: creds.cert,
    ca: [creds.ca],
    requestCert: true,
    // Unsigned, self-signed, expired or not-yet-valid client certificates fail the handshake.
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    handshakeTimeout: handshakeTimeoutMs,
  };
}

export interface PeerChecker {
  peerRefusal(serialHex: string, commonName: string): Promise<string | null>;
}

export class MtlsGate {
  private readonly verdicts = new WeakMap<tls.TLSSocket, Promise<string | null>>();
  private readonly byTerminal = new Map<string, Set<tls.TLSSocket>>();

  constructor(
    private readonly checker: PeerChecker,
    private readonly log: Logger,
  ) {}

  /** The terminal of a socket's verified client certificate, or null when it may not speak. */
  terminalOf(socket: tls.TLSSocket): Promise<string | null> {
    let verdict = this.verdicts.get(socket);
    if (!verdict) {
      verdict = this.check(socket);
      this.verdicts.set(socket, verdict);
    }
    return verdict;
  }

  /** Cuts every mTLS connection of this terminal (it was blocked). */
  closeTerminal(terminalId: string): number {
    const sockets = this.byTerminal.get(terminalId);
    if (!sockets) return 0;
    this.byTerminal.delete(terminalId);
    for (const socket of sockets) socket.destroy();
    return sockets.size;
  }

  private async check(socket: tls.TLSSocket): Promise<string | null> {
    if (!socket.authorized) return null;
    const cert = socket.getPeerCertificate();
    const cn = cert?.subject?.CN;
    if (typeof cn !== 'string' || !/^[A-Za-z0-9]{8}$/.test(cn) || typeof cert.serialNumber !== 'string') return null;
    let refusal: string | null;
    try {
      refusal = await this.checker.peerRefusal(cert.serialNumber, cn);
    } catch (error) {
      this.log.error({ err: error, terminalId: cn }, 'mtls: certificate check failed');
      refusal = 'certificate check failed';
    }
    if (refusal) {
      this.log.info({ terminalId: cn, serial: cert.serialNumber, reason: refusal, remote: socket.remoteAddress }, 'mtls: client certificate refused');
      return null;
    }
    let sockets = this.byTerminal.get(cn);
    if (!sockets) this.byTerminal.set(cn, (sockets = new Set()));
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0 && this.byTerminal.get(cn) === sockets) this.byTerminal.delete(cn);
    });
    return cn;
  }
}

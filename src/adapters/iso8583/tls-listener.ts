// ISO 8583 over mutual TLS (ISO_TLS_PORT): accepts a connection whose client certificate the CA
// vouches for, then hands the socket to the one IsoServer with the certificate's terminal id.
import tls from 'node:tls';
import type net from 'node:net';
import type { IsoServer } from './server.js';
import type { MtlsGate } from '../pki/mtls.js';
import type { Logger } from '../../platform/logger.js';

export class IsoTlsListener {
  private readonly server: tls.Server;
  private boundPort = 0;

  constructor(iso: IsoServer, gate: MtlsGate, options: tls.TlsOptions, log: Logger, connectionsMax: number) {
    this.server = tls.createServer(options, (socket) => {
      socket.on('error', (error) => log.debug({ err: error.message }, 'iso-tls: socket error'));
      void gate.terminalOf(socket).then((terminalId) => {
        if (terminalId === null) socket.destroy();
        else if (!socket.destroyed) iso.adopt(socket, terminalId);
      });
    });
    this.server.maxConnections = connectionsMax;
    this.server.on('tlsClientError', (error) => log.debug({ err: error.message }, 'iso-tls: handshake refused'));
    this.server.on('error', (error) => log.error({ err: error }, 'iso-tls: server error'));
  }

  get port(): number {
    return this.boundPort;
  }

  /** New connections use these options (a fresh CRL); open connections keep theirs. */
  setSecureContext(options: tls.SecureContextOptions): void {
    this.server.setSecureContext(options);
  }

  async listen(port: number, host: string): Promise<number> {
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

  /** Stops accepting; the connections already served are closed by IsoServer.close. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// The mutual-TLS settings of DESIGN §13: defaults, TERMINAL_TLS_ONLY, server host names.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';

describe('TLS configuration', () => {
  it('defaults to ISO_TLS_PORT 5843, HTTPS_PORT 8443, plain ports open to terminals', () => {
    const c = loadConfig({});
    expect(c.isoTlsPort).toBe(5843);
    expect(c.httpsPort).toBe(8443);
    expect(c.terminalTlsOnly).toBe(false);
    expect(c.tlsServerHosts).toEqual([]);
  });

  it('reads TERMINAL_TLS_ONLY, the ports and TLS_SERVER_HOSTS, and names a bad value', () => {
    const c = loadConfig({ TERMINAL_TLS_ONLY: '1', ISO_TLS_PORT: '0', HTTPS_PORT: '9443', TLS_SERVER_HOSTS: 'cards.example.cn, 10.0.0.5' });
    expect(c).toMatchObject({ terminalTlsOnly: true, isoTlsPort: 0, httpsPort: 9443, tlsServerHosts: ['cards.example.cn', '10.0.0.5'] });
    expect(() => loadConfig({ TERMINAL_TLS_ONLY: 'yes' })).toThrow(/TERMINAL_TLS_ONLY/);
    expect(() => loadConfig({ HTTPS_PORT: '99999' })).toThrow(/HTTPS_PORT/);
    expect(() => loadConfig({ ISO_TLS_PORT: 'tls' })).toThrow(/ISO_TLS_PORT/);
    expect(() => loadConfig({ TLS_SERVER_HOSTS: 'bad host/name' })).toThrow(/TLS_SERVER_HOSTS/);
  });
});

// ISO 8583 gateway area: the TCP server for merchant and hospital POS terminals (DESIGN §6,
// docs/iso8583.md), started after recovery when ROLE is all or iso, stopped at close.
import type { Area } from './index.js';
import type { System } from '../system.js';
import { IsoServer, defaultIsoLimits, type IsoServerLimits } from '../adapters/iso8583/server.js';
import { IsoPipeline, type FinancialHandler } from '../adapters/iso8583/handlers.js';
import { Advice0220, Purchase0200, type FinancialDeps } from '../adapters/iso8583/handlers-financial.js';
import { Reversal0400 } from '../adapters/iso8583/handlers-reversal.js';
import { Batch0500 } from '../adapters/iso8583/handlers-batch.js';
import { NetworkManagement } from '../adapters/iso8583/handlers-network.js';
import { Medical0200 } from '../adapters/iso8583/handlers-medical.js';
import { medicalOf } from './medical.js';
import { createIsoPool, IsoStore } from '../adapters/iso8583/store.js';
import { IsoTerminals } from '../adapters/iso8583/terminal-keys.js';
import { observeIsoAnswer } from '../adapters/iso8583/observe.js';
import { parsePaymentLimits } from '../domain/payment-policy.js';
import { defaultRekeyLimits, RekeyLimit, type RekeyLimits } from '../adapters/redis/rekey-limit.js';

export interface IsoGateway {
  server: IsoServer;
  pipeline: IsoPipeline;
  store: IsoStore;
  terminals: IsoTerminals;
  /** The bound TCP port (0 until started; the ephemeral one when ISO_PORT=0). */
  readonly port: number;
  /** Stops the server (running requests finish first) and ends the store's connections. */
  close(): Promise<void>;
}

declare module '../system.js' {
  interface System {
    iso: IsoGateway;
  }
}

export function buildIsoGateway(system: System, limits: IsoServerLimits = defaultIsoLimits, rekeyLimits: RekeyLimits = defaultRekeyLimits): IsoGateway {
  const store = new IsoStore(createIsoPool(system.config.databaseUrl));
  const terminals = new IsoTerminals({
    registry: system.registry,
    secrets: system.secrets,
    decryptKeys: (keysEnc) => system.admin.terminalKeys(keysEnc),
    now: () => system.clock.now(),
  });
  const deps: FinancialDeps = {
    money: system.money,
    cards: system.cards,
    authorizer: system.authorizer,
    journal: system.journal,
    store,
    clock: system.clock,
    limits: parsePaymentLimits(system.policy.payments),
    hotlist: system.hotlist,
    log: system.log,
  };
  // Reversals wait for an original still running in this pipeline (built just below).
  const inflightOriginal = (keyText: string) => pipeline.inflightOf(keyText);
  const medical = new Medical0200(deps, () => {
    try {
      return medicalOf(system).service;
    } catch {
      return null; // the medical area is not installed: its processing codes answer 12
    }
  });
  const financial: Record<string, FinancialHandler> = {
    '0200': new Purchase0200(deps, medical),
    '0220': new Advice0220(deps),
    '0400': new Reversal0400(deps, inflightOriginal, 'reversal', medical),
    '0420': new Reversal0400(deps, inflightOriginal, 'reversal-advice', medical),
    '0500': new Batch0500(system.pool, system.clock),
  };
  const pipeline: IsoPipeline = new IsoPipeline({
    store,
    terminals,
    log: system.log,
    financial,
    network: new NetworkManagement(terminals, system.log, new RekeyLimit(system.redis, system.keys, rekeyLimits)),
    observe: (answered) => observeIsoAnswer(system.metrics, answered),
    dependenciesReady: () => system.redis.status === 'ready',
  });
  const server = new IsoServer(pipeline, system.log, limits);
  system.metrics.watch({ isoConnections: () => server.connectionCount });
  return {
    server,
    pipeline,
    store,
    terminals,
    get port() {
      return server.port;
    },
    async close() {
      await server.close();
      await store.completionsWritten();
      await store.pool.end();
    },
  };
}

export const isoArea: Area = {
  name: 'iso',
  async install(system) {
    const gateway = buildIsoGateway(system);
    system.iso = gateway;
    system.onClose.push(() => gateway.close());
    if (system.config.role !== 'all' && system.config.role !== 'iso' && system.config.role !== 'web') return;
    system.onStart.push(async () => {
      // TERMINAL_TLS_ONLY: terminals reach the gateway only through ISO_TLS_PORT (src/wiring/pki.ts).
      if (system.config.terminalTlsOnly) return;
      const port = await gateway.server.listen(system.config.isoPort, system.config.httpHost);
      system.log.info({ port }, 'ISO 8583 listening');
    });
  },
};

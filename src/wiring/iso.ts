// ISO 8583 gateway area: the TCP server for merchant and hospital POS terminals (DESIGN §6,
// docs/iso8583.md), started after recovery when ROLE is all or iso, stopped at close.
import type { AreaHooks } from './area.js';
import type { Core } from './core.js';
import type { MedicalService } from '../app/medical.js';
import { IsoServer, defaultIsoLimits, type IsoServerLimits } from '../adapters/iso8583/server.js';
import { IsoPipeline, type FinancialHandler } from '../adapters/iso8583/handlers.js';
import { Advice0220, Purchase0200, type FinancialDeps } from '../adapters/iso8583/handlers-financial.js';
import { Reversal0400 } from '../adapters/iso8583/handlers-reversal.js';
import { Batch0500 } from '../adapters/iso8583/handlers-batch.js';
import { NetworkManagement } from '../adapters/iso8583/handlers-network.js';
import { Medical0200 } from '../adapters/iso8583/handlers-medical.js';
import { createIsoPool, IsoStore } from '../adapters/iso8583/store.js';
import { IsoTerminals } from '../adapters/iso8583/terminal-keys.js';
import { observeIsoAnswer } from '../adapters/iso8583/observe.js';
import { OfflineAdvices } from '../app/terminal-advice.js';
import { TerminalReversals } from '../app/terminal-reversal.js';
import { BatchReconciliation } from '../app/batch-totals.js';
import { PgBatchTotals } from '../adapters/postgres/batch-totals.js';
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

export interface IsoArea extends IsoGateway, AreaHooks {}

export type IsoGatewayDeps = Pick<Core, 'config' | 'registry' | 'secrets' | 'admin' | 'clock' | 'money' | 'cards' | 'authorizer' | 'journal' | 'policy' | 'hotlist' | 'log' | 'pool' | 'redis' | 'keys' | 'metrics'> & {
  /** The medical area, whose service answers the medical processing codes (none: they answer 12). */
  medical: { service: MedicalService } | null;
};

export function buildIsoGateway(system: IsoGatewayDeps, limits: IsoServerLimits = defaultIsoLimits, rekeyLimits: RekeyLimits = defaultRekeyLimits): IsoGateway {
  const store = new IsoStore(createIsoPool(system.config.databaseUrl));
  const terminals = new IsoTerminals({
    registry: system.registry,
    secrets: system.secrets,
    decryptKeys: (keysEnc) => system.admin.terminalKeys(keysEnc),
    now: () => system.clock.now(),
  });
  const medicalService = system.medical?.service ?? null;
  const deps: FinancialDeps = {
    money: system.money,
    advices: new OfflineAdvices({
      authorizer: system.authorizer,
      clock: system.clock,
      limits: parsePaymentLimits(system.policy.payments),
      hotlist: system.hotlist,
      log: system.log,
    }),
    reversals: new TerminalReversals({ money: system.money, authorizer: system.authorizer, journal: system.journal, clock: system.clock, medical: () => medicalService }),
    cards: system.cards,
    journal: system.journal,
    store,
  };
  // Reversals wait for an original still running in this pipeline (built just below).
  const inflightOriginal = (keyText: string) => pipeline.inflightOf(keyText);
  const medical = new Medical0200(deps, () => medicalService);
  const financial: Record<string, FinancialHandler> = {
    '0200': new Purchase0200(deps, medical),
    '0220': new Advice0220(deps),
    '0400': new Reversal0400(deps, inflightOriginal, 'reversal'),
    '0420': new Reversal0400(deps, inflightOriginal, 'reversal-advice'),
    '0500': new Batch0500(new BatchReconciliation(new PgBatchTotals(system.pool), system.clock)),
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

export function createIsoArea(deps: IsoGatewayDeps): IsoArea {
  const gateway = buildIsoGateway(deps);
  const { config, log } = deps;
  const serves = config.role === 'all' || config.role === 'iso' || config.role === 'web';
  return {
    server: gateway.server,
    pipeline: gateway.pipeline,
    store: gateway.store,
    terminals: gateway.terminals,
    get port() {
      return gateway.port;
    },
    close: () => gateway.close(),
    onStart: async () => {
      // TERMINAL_TLS_ONLY: terminals reach the gateway only through ISO_TLS_PORT (src/wiring/pki.ts).
      if (!serves || config.terminalTlsOnly) return;
      const port = await gateway.server.listen(config.isoPort, config.httpHost);
      log.info({ port }, 'ISO 8583 listening');
    },
    onClose: () => gateway.close(),
  };
}

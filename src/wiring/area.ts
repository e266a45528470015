// What an area (src/wiring/*.ts) hands the composition root beside its own typed parts: its HTTP
// routes and its start and close hooks. src/system.ts registers and runs them in the areas' order.
import type { FastifyInstance } from 'fastify';

export interface AreaHooks {
  /** The area's route plugins, registered on the HTTP app after the core's. */
  routes?: (app: FastifyInstance) => Promise<void>;
  /** Run after recovery and the core's start data (parties, demo data). */
  onStart?: () => Promise<void>;
  /** Run at close, in the reverse order of the areas, after the HTTP server stopped. */
  onClose?: () => Promise<void>;
}

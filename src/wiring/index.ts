// The product's areas beyond the core, each wired by its own module: routes, servers, workers,
// start and stop hooks. buildSystem installs them in this order.
import type { System } from '../system.js';

export interface Area {
  name: string;
  install(system: System): Promise<void>;
}

export const areas: Area[] = [];

// The product's areas beyond the core, each wired by its own module: routes, servers, workers,
// start and stop hooks. buildSystem installs them in this order.
import type { System } from '../system.js';

export interface Area {
  name: string;
  install(system: System): Promise<void>;
}

export const areas: Area[] = [];
import { citizenArea } from './citizen.js'; areas.push(citizenArea); // citizen API, kiosk and operations console
import { medicalArea } from './medical.js'; areas.push(medicalArea); // medical presettle, settle and cancel (docs/medical.md)
import { isoArea } from './iso.js'; areas.push(isoArea); // ISO 8583 gateway for POS terminals
import { pkiArea } from './pki.js'; areas.push(pkiArea); // terminal CA, enrolment, blocking, mTLS listeners (after iso: it serves the ISO server over TLS)
import { jobsArea } from './jobs.js'; areas.push(jobsArea); // nightly jobs: BullMQ queue, worker, schedulers, /v1/admin/jobs, /admin/queues
import { transitArea } from './transit.js'; areas.push(transitArea); // transit: taps, offline uploads, hotlist, journeys (docs/transit.md)
import { registryArea } from './registry.js'; areas.push(registryArea); // population registry, card concessions from it, statistics, fare sandbox (docs/registry.md)

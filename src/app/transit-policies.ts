// Fare policies as versioned, effective-dated data (fare_policies): the policy file is stored under
// its version at start, GTFS imports (scripts/import-gtfs.ts) add versions, and a tap is rated with
// the policy of the latest effective date on or before its business date.
import { importGtfsFares, parsePolicy, type FarePolicy } from '../domain/fare/index.js';
import type { PolicyRow, TransitStore } from '../adapters/postgres/transit-store.js';
import type { Logger } from '../platform/logger.js';

/** How often a running server looks for versions imported since it started. */
export const policyRefreshMs = 60_000;

export interface GtfsPolicyBody {
  baseVersion: string;
  files: Record<string, string>;
  /** agency_id → operator id as resolved at import (scripts/import-gtfs.ts), so a re-import maps the same. */
  agencyOperators?: Record<string, string>;
}

/** Builds the policies of stored rows; a GTFS row is imported over its base version. Bad rows are reported, not fatal. */
export function policiesOf(rows: readonly PolicyRow[], onError: (version: string, error: unknown) => void): FarePolicy[] {
  const byVersion = new Map<string, FarePolicy>();
  for (const row of rows.filter((r) => r.source === 'json')) {
    try {
      byVersion.set(row.version, { ...parsePolicy(row.body), version: row.version, effectiveFrom: row.effectiveFrom });
    } catch (error) {
      onError(row.version, error);
    }
  }
  for (const row of rows.filter((r) => r.source === 'gtfs')) {
    try {
      const body = row.body as GtfsPolicyBody;
      const base = byVersion.get(body.baseVersion);
      if (!base) throw new Error(`base policy ${body.baseVersion} is not loaded`);
      const options = body.agencyOperators ? { agencyOperators: body.agencyOperators } : {};
      byVersion.set(row.version, { ...importGtfsFares(body.files, base, options), version: row.version, effectiveFrom: row.effectiveFrom });
    } catch (error) {
      onError(row.version, error);
    }
  }
  return [...byVersion.values()].sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? -1 : a.effectiveFrom > b.effectiveFrom ? 1 : 0));
}

/** The policy in force on a business date: the latest effective on or before it, else the earliest known. */
export function policyOn(policies: readonly FarePolicy[], businessDate: string): FarePolicy {
  let chosen = policies[0];
  for (const p of policies) if (p.effectiveFrom <= businessDate) chosen = p;
  if (!chosen) throw new Error('no fare policy is loaded');
  return chosen;
}

export class FarePolicies {
  private list: FarePolicy[];
  private loadedAtMs = 0;
  private refreshing: Promise<void> | null = null;

  /** `initial` (the policy file, already parsed) serves until the stored versions are loaded. */
  constructor(
    private readonly store: TransitStore,
    private readonly log: Logger,
    initial: FarePolicy,
  ) {
    this.list = [initial];
  }

  /** Stores the policy file under its version (idempotent) and loads every stored version. */
  async start(file: { version: string; effectiveFrom: string; body: unknown }): Promise<void> {
    const stored = await this.store.ensurePolicy({ version: file.version, effectiveFrom: file.effectiveFrom, source: 'json', body: file.body });
    if (stored === 'different') this.log.warn({ version: file.version }, 'fare policy file differs from the stored policy of the same version; the stored one is used (give the file a new version)');
    await this.reload();
  }

  async reload(): Promise<void> {
    const rows = await this.store.policies();
    const list = policiesOf(rows, (version, error) => this.log.error({ err: error, version }, 'stored fare policy cannot be used'));
    if (list.length > 0) this.list = list;
    this.loadedAtMs = Date.now();
  }

  /** The policy for a business date; versions imported meanwhile are picked up within policyRefreshMs. */
  forDate(businessDate: string): FarePolicy {
    if (Date.now() - this.loadedAtMs > policyRefreshMs && !this.refreshing && this.loadedAtMs > 0) {
      this.refreshing = this.reload()
        .catch((error: unknown) => this.log.warn({ err: error }, 'fare policy refresh failed'))
        .finally(() => {
          this.refreshing = null;
        });
    }
    return policyOn(this.list, businessDate);
  }

  /** Whether any loaded version has this bus route (a terminal registered for a coming version is fine). */
  hasRoute(routeId: string): boolean {
    return this.list.some((p) => p.bus.routes.some((r) => r.routeId === routeId));
  }

  hasStation(stationId: string): boolean {
    return this.list.some((p) => p.metro.lines.some((l) => l.stations.some((s) => s.stationId === stationId)));
  }

  versions(): { version: string; effectiveFrom: string }[] {
    return this.list.map((p) => ({ version: p.version, effectiveFrom: p.effectiveFrom }));
  }
}

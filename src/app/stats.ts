// Published statistics (docs/statistics.md): the tables for decisions — ridership, OD flows,
// medical spend, top-up channels — aggregated in PostgreSQL and released only through the
// disclosure control of domain/stats (≥ 5 people per cell, cell-key perturbation).
import { publish, peopleMin, peopleNoiseWeights, type PublishedCell, type RawCell } from '../domain/stats/disclosure.js';
import type { Secrets } from '../platform/secrets.js';
import type { PgStats } from '../adapters/postgres/stats.js';

export const statsTables = ['ridership', 'od-flows', 'medical-spend', 'topup-channels'] as const;
export type StatsTable = (typeof statsTables)[number];

/** Each table's dimensions and measures, in column order. */
export const tableColumns: Record<StatsTable, { dims: string[]; measures: string[] }> = {
  ridership: { dims: ['district', 'hour', 'age_band', 'card_type'], measures: ['boardings'] },
  'od-flows': { dims: ['origin', 'destination'], measures: ['journeys'] },
  'medical-spend': { dims: ['district', 'month'], measures: ['claims', 'spend_fen', 'fund_fen'] },
  'topup-channels': { dims: ['channel', 'district'], measures: ['topups', 'amount_fen'] },
};

export interface StatsQuery {
  businessDate?: string | undefined;
  month?: string | undefined;
}

export interface PublishedTable {
  table: StatsTable;
  period: string;
  columns: string[];
  rows: Record<string, string | number>[];
  rule: { peopleMin: number; peopleNoise: number[]; measureNoise: string; fenRounding: string };
}

export class StatsService {
  constructor(
    private readonly deps: { stats: PgStats; secrets: Secrets; stationDistricts: ReadonlyMap<string, string> },
  ) {}

  /** The table for a period: `businessDate` for ridership and OD flows, `month` (YYYY-MM) for the others. */
  async table(table: StatsTable, q: StatsQuery): Promise<{ ok: true; value: PublishedTable } | { ok: false; detail: string }> {
    const daily = table === 'ridership' || table === 'od-flows';
    const period = daily ? q.businessDate : q.month;
    if (!period) return { ok: false, detail: daily ? 'businessDate is required' : 'month is required' };
    const raw = await this.raw(table, period);
    const cells = publish(table, raw, (label, slot) => this.deps.secrets.lookupHmac(`stats|${label}|${slot}`).readUInt32BE(0));
    return { ok: true, value: this.shape(table, period, cells) };
  }

  private raw(table: StatsTable, period: string): Promise<RawCell[]> {
    switch (table) {
      case 'ridership':
        return this.deps.stats.ridership(period);
      case 'od-flows':
        return this.deps.stats.odFlows(period, this.deps.stationDistricts);
      case 'medical-spend':
        return this.deps.stats.medicalSpend(period);
      case 'topup-channels':
        return this.deps.stats.topupChannels(period);
    }
  }

  private shape(table: StatsTable, period: string, cells: PublishedCell[]): PublishedTable {
    const { dims, measures } = tableColumns[table];
    return {
      table,
      period,
      columns: [...dims, 'people', ...measures],
      rows: cells.map((c) => ({ ...Object.fromEntries(dims.map((d) => [d, c.dims[d]!])), people: c.people, ...Object.fromEntries(measures.map((m) => [m, Number(c.values[m] ?? 0n)])) })),
      rule: {
        peopleMin,
        peopleNoise: peopleNoiseWeights.map(([n]) => n),
        measureNoise: 'uniform in ± the largest single-person contribution of the cell, seeded by the cell key',
        fenRounding: 'fen sums rounded to whole yuan after noise',
      },
    };
  }
}

/** RFC 4180 CSV of a published table (header row of its columns). */
export function toCsv(t: PublishedTable): string {
  const cell = (v: unknown): string => {
    const s = v === undefined || v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [t.columns.map(cell).join(','), ...t.rows.map((r) => t.columns.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}

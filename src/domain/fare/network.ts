// The metro graph: shortest-path distances over the lines (changing at shared station ids) and the
// all-pairs fare table derived from them, built once per policy so that rating is a lookup.
import { PolicyError, type MetroPolicy } from './model.js';

export interface OdFare {
  fareFen: bigint;
  /** Shortest distance in metres; null when the fare comes from a zone (od) table. */
  distanceM: number | null;
  /** What the fare is based on, for the explanation: "6.1 km", "zone A→B". */
  basis: string;
}

export interface MetroNetwork {
  hasStation(stationId: string): boolean;
  /** Fare of a journey from → to, or undefined when the policy has none for that pair. */
  fare(fromStationId: string, toStationId: string): OdFare | undefined;
  /** Largest fare from a station to any station (incomplete journeys). */
  maxFareFrom(stationId: string): OdFare | undefined;
}

/** Renders metres as km with one decimal at least: 6000 → "6.0", 12345 → "12.345". */
export function formatKm(m: number): string {
  const km = Math.trunc(m / 1000);
  const rest = String(m % 1000).padStart(3, '0').replace(/0+$/, '');
  return `${km}.${rest === '' ? '0' : rest}`;
}

/**
 * Fare for a distance from the band table: upper bounds inclusive; past the last band each started
 * everyM adds addFen. `extra` spells out the beyond-the-last-band arithmetic when it applied.
 */
export function distanceFare(metro: Pick<MetroPolicy, 'fareBands' | 'beyondLastBand'>, distanceM: number): { fareFen: bigint; extra: string | null } {
  const band = metro.fareBands.find((b) => distanceM <= b.uptoM);
  if (band) return { fareFen: band.fareFen, extra: null };
  const last = metro.fareBands[metro.fareBands.length - 1];
  if (!last) throw new PolicyError('metro.fareBands', 'needs at least one band');
  const beyond = metro.beyondLastBand;
  if (!beyond) return { fareFen: last.fareFen, extra: null };
  const steps = Math.ceil((distanceM - last.uptoM) / beyond.everyM);
  const extra = `${last.fareFen} + ${steps} × ${beyond.addFen} per started ${formatKm(beyond.everyM)} km past ${formatKm(last.uptoM)} km`;
  return { fareFen: last.fareFen + BigInt(steps) * beyond.addFen, extra };
}

/** All-pairs shortest distances (metres) over the lines; Floyd–Warshall, fine for a city's few hundred stations. */
export function shortestDistancesM(metro: Pick<MetroPolicy, 'lines'>): Map<string, Map<string, number>> {
  const ids: string[] = [];
  const index = new Map<string, number>();
  for (const line of metro.lines) {
    for (const s of line.stations) {
      if (!index.has(s.stationId)) {
        index.set(s.stationId, ids.length);
        ids.push(s.stationId);
      }
    }
  }
  const n = ids.length;
  // Flat n×n matrix; integer metres are exact in a double, so sums never drift.
  const d = new Float64Array(n * n).fill(Infinity);
  const at = (i: number, j: number): number => d[i * n + j] ?? Infinity;
  for (let i = 0; i < n; i++) d[i * n + i] = 0;
  for (const line of metro.lines) {
    line.stations.forEach((s, k) => {
      const prev = line.stations[k - 1];
      if (!prev) return;
      const i = index.get(prev.stationId) ?? 0;
      const j = index.get(s.stationId) ?? 0;
      const w = Math.min(at(i, j), s.atM - prev.atM);
      d[i * n + j] = w;
      d[j * n + i] = w;
    });
  }
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      const ik = at(i, k);
      if (ik === Infinity) continue;
      for (let j = 0; j < n; j++) {
        const via = ik + at(k, j);
        if (via < at(i, j)) d[i * n + j] = via;
      }
    }
  }
  const out = new Map<string, Map<string, number>>();
  ids.forEach((from, i) => {
    const row = new Map<string, number>();
    ids.forEach((to, j) => row.set(to, at(i, j)));
    out.set(from, row);
  });
  return out;
}

function distanceTable(metro: MetroPolicy): Map<string, Map<string, OdFare>> {
  const table = new Map<string, Map<string, OdFare>>();
  for (const [from, row] of shortestDistancesM(metro)) {
    const fares = new Map<string, OdFare>();
    for (const [to, distanceM] of row) {
      // A station no line connects to the rest is a policy error, not a journey to decline later.
      if (distanceM === Infinity) throw new PolicyError('metro.lines', `no path between stations ${from} and ${to}`);
      const { fareFen, extra } = distanceFare(metro, distanceM);
      fares.set(to, { fareFen, distanceM, basis: `${formatKm(distanceM)} km${extra === null ? '' : ` (${extra})`}` });
    }
    table.set(from, fares);
  }
  return table;
}

function zoneTable(od: NonNullable<MetroPolicy['odFares']>): Map<string, Map<string, OdFare>> {
  const byAreas = new Map<string, bigint>();
  for (const f of od.fares) byAreas.set(`${f.fromAreaId}\u0000${f.toAreaId}`, f.fareFen);
  const table = new Map<string, Map<string, OdFare>>();
  const stations = Object.entries(od.areaOfStation);
  for (const [from, fromArea] of stations) {
    const fares = new Map<string, OdFare>();
    for (const [to, toArea] of stations) {
      const fareFen = byAreas.get(`${fromArea}\u0000${toArea}`);
      if (fareFen !== undefined) fares.set(to, { fareFen, distanceM: null, basis: `zone ${fromArea}→${toArea}` });
    }
    table.set(from, fares);
  }
  return table;
}

const built = new WeakMap<MetroPolicy, MetroNetwork>();

/** The network of a metro policy, built on first use and kept for as long as the policy object lives. */
export function metroNetwork(metro: MetroPolicy): MetroNetwork {
  const cached = built.get(metro);
  if (cached) return cached;
  const table = metro.odFares ? zoneTable(metro.odFares) : distanceTable(metro);
  const maxFrom = new Map<string, OdFare>();
  for (const [from, row] of table) {
    let best: OdFare | undefined;
    for (const f of row.values()) if (!best || f.fareFen > best.fareFen) best = f;
    if (best) maxFrom.set(from, best);
  }
  const network: MetroNetwork = {
    hasStation: (id) => table.has(id),
    fare: (from, to) => table.get(from)?.get(to),
    maxFareFrom: (id) => maxFrom.get(id),
  };
  built.set(metro, network);
  return network;
}

// The fare policy model the engine rates with. Amounts are bigint fen, distances integer metres and
// durations seconds, so no float ever reaches a fare.

export const cardTypes = ['adult', 'student', 'senior', 'disabled'] as const;
export type CardType = (typeof cardTypes)[number];

export interface BusRoute {
  routeId: string;
  name: string;
  operatorId: string;
  fareFen: bigint;
}

export interface MetroStation {
  stationId: string;
  name: string;
  /** Position along the line, metres from its first station. */
  atM: number;
}

export interface MetroLine {
  lineId: string;
  stations: MetroStation[];
}

export interface FareBand {
  /** Inclusive upper bound: a journey of exactly uptoM metres is in this band. */
  uptoM: number;
  fareFen: bigint;
}

/** Zone (origin–destination) fares, e.g. from GTFS fare_leg_rules between areas. */
export interface OdFares {
  areaOfStation: Record<string, string>;
  /** Directional: a missing pair has no fare (the engine declines with 12). */
  fares: { fromAreaId: string; toAreaId: string; fareFen: bigint }[];
}

export interface MetroPolicy {
  operatorId: string;
  lines: MetroLine[];
  fareBands: FareBand[];
  /** Past the last band each started everyM adds addFen; null: the last band's fare holds. */
  beyondLastBand: { everyM: number; addFen: bigint } | null;
  /** When present, fares come from this table instead of distance bands. */
  odFares?: OdFares;
  sameStationExit: { withinSeconds: number; fareFen: bigint };
  antiPassbackSeconds: number;
}

export interface TransferRule {
  windowSeconds: number;
  discountFen: bigint;
}

/** Local time of day window [start, end), minutes after midnight Asia/Shanghai. */
export interface TimeWindow {
  startMinute: number;
  endMinute: number;
}

export interface Concession {
  /** Percent of the base fare the card pays, 0–100. */
  percent: number;
  peak: { percent: number; weekdaysOnly: boolean; windows: TimeWindow[] } | null;
}

export interface FarePolicy {
  version: string;
  effectiveFrom: string;
  bus: { routes: BusRoute[]; antiPassbackSeconds: number };
  metro: MetroPolicy;
  /** null: no transfer discount. */
  transfer: TransferRule | null;
  dailyCapFen: Record<CardType, bigint>;
  concessions: Record<CardType, Concession>;
  /** Offline taps older than this many days (by the policy in force at upload) are refused. */
  offlineUploadDaysMax: number;
}

/** The offline window when a policy names none. */
export const offlineUploadDaysDefault = 30;

/** A policy that does not validate; `path` names the offending field (e.g. `metro.lines[1].stations[7].km`). */
export class PolicyError extends Error {
  override name = 'PolicyError';
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`fare policy ${path}: ${problem}`);
  }
}

export function isCardType(v: unknown): v is CardType {
  return typeof v === 'string' && (cardTypes as readonly string[]).includes(v);
}

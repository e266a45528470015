// parsePolicy: a policy document in the demo-network.json shape → the validated FarePolicy model,
// failing with a PolicyError that names the bad path.
import { metroNetwork } from './network.js';
import { cardTypes, offlineUploadDaysDefault, PolicyError, type CardType, type Concession, type FarePolicy, type MetroLine, type MetroPolicy, type TimeWindow, type TransferRule } from './model.js';

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PolicyError(path, 'must be an object');
  return v as Obj;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new PolicyError(path, 'must be an array');
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new PolicyError(path, 'must be a non-empty string');
  return v;
}

function int(v: unknown, path: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new PolicyError(path, `must be an integer ≥ ${min}`);
  return v;
}

function fen(v: unknown, path: string): bigint {
  return BigInt(int(v, path));
}

function percent(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) throw new PolicyError(path, 'must be a percentage 0–100');
  return v;
}

/** km with at most metre precision → integer metres (8.3 km → 8300, never 8299.999…). */
function metres(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new PolicyError(path, 'must be a distance in km ≥ 0');
  const m = Math.round(v * 1000);
  if (Math.abs(v * 1000 - m) > 1e-6) throw new PolicyError(path, 'must have at most 3 decimals (metre precision)');
  return m;
}

function clockMinute(text: string, path: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text);
  const minute = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  if (!(minute <= 24 * 60)) throw new PolicyError(path, `"${text}" is not a HH:MM time`);
  return minute;
}

function window(v: unknown, path: string): TimeWindow {
  const [from, to, ...rest] = str(v, path).split('-');
  if (from === undefined || to === undefined || rest.length > 0) throw new PolicyError(path, 'must be "HH:MM-HH:MM"');
  const w = { startMinute: clockMinute(from, path), endMinute: clockMinute(to, path) };
  if (w.startMinute >= w.endMinute) throw new PolicyError(path, 'must end after it starts (windows do not cross midnight)');
  return w;
}

function perCardType<T>(v: unknown, path: string, read: (x: unknown, p: string) => T): Record<CardType, T> {
  const o = obj(v, path);
  const out = {} as Record<CardType, T>;
  for (const t of cardTypes) out[t] = read(o[t], `${path}.${t}`);
  return out;
}

function parseBus(v: unknown): FarePolicy['bus'] {
  const b = obj(v, 'bus');
  const seen = new Set<string>();
  const routes = arr(b.routes, 'bus.routes').map((r, i) => {
    const p = `bus.routes[${i}]`;
    const o = obj(r, p);
    const routeId = str(o.routeId, `${p}.routeId`);
    if (seen.has(routeId)) throw new PolicyError(`${p}.routeId`, `duplicate route ${routeId}`);
    seen.add(routeId);
    return { routeId, name: str(o.name, `${p}.name`), operatorId: str(o.operatorId, `${p}.operatorId`), fareFen: fen(o.fare, `${p}.fare`) };
  });
  return { routes, antiPassbackSeconds: int(b.antiPassbackSeconds, 'bus.antiPassbackSeconds') };
}

function parseLine(v: unknown, p: string): MetroLine {
  const o = obj(v, p);
  const stations = arr(o.stations, `${p}.stations`).map((s, j) => {
    const sp = `${p}.stations[${j}]`;
    const so = obj(s, sp);
    return { stationId: str(so.stationId, `${sp}.stationId`), name: str(so.name, `${sp}.name`), atM: metres(so.km, `${sp}.km`) };
  });
  if (stations.length < 2) throw new PolicyError(`${p}.stations`, 'a line needs at least two stations');
  stations.forEach((s, j) => {
    const prev = stations[j - 1];
    if (prev && s.atM <= prev.atM) throw new PolicyError(`${p}.stations[${j}].km`, 'must increase along the line');
  });
  return { lineId: str(o.lineId, `${p}.lineId`), stations };
}

function parseMetro(v: unknown): MetroPolicy {
  const m = obj(v, 'metro');
  const fareBands = arr(m.fareBands, 'metro.fareBands').map((b, i) => {
    const o = obj(b, `metro.fareBands[${i}]`);
    return { uptoM: metres(o.uptoKm, `metro.fareBands[${i}].uptoKm`), fareFen: fen(o.fare, `metro.fareBands[${i}].fare`) };
  });
  if (fareBands.length === 0) throw new PolicyError('metro.fareBands', 'needs at least one band');
  fareBands.forEach((b, i) => {
    const prev = fareBands[i - 1];
    if (prev && (b.uptoM <= prev.uptoM || b.fareFen < prev.fareFen)) throw new PolicyError(`metro.fareBands[${i}]`, 'bands must go up in distance and not down in fare');
  });
  let beyondLastBand: MetroPolicy['beyondLastBand'] = null;
  if (m.beyondLastBand !== undefined) {
    const o = obj(m.beyondLastBand, 'metro.beyondLastBand');
    const everyM = metres(o.everyKm, 'metro.beyondLastBand.everyKm');
    if (everyM <= 0) throw new PolicyError('metro.beyondLastBand.everyKm', 'must be > 0');
    beyondLastBand = { everyM, addFen: fen(o.add, 'metro.beyondLastBand.add') };
  }
  const same = obj(m.sameStationExit, 'metro.sameStationExit');
  return {
    operatorId: str(m.operatorId, 'metro.operatorId'),
    lines: arr(m.lines, 'metro.lines').map((l, i) => parseLine(l, `metro.lines[${i}]`)),
    fareBands,
    beyondLastBand,
    sameStationExit: {
      withinSeconds: int(same.withinMinutes, 'metro.sameStationExit.withinMinutes') * 60,
      fareFen: fen(same.fare, 'metro.sameStationExit.fare'),
    },
    antiPassbackSeconds: int(m.antiPassbackSeconds, 'metro.antiPassbackSeconds'),
  };
}

function parseConcession(v: unknown, p: string): Concession {
  const o = obj(v, p);
  let peak: Concession['peak'] = null;
  if (o.peak !== undefined) {
    const k = obj(o.peak, `${p}.peak`);
    if (k.weekdays !== undefined && typeof k.weekdays !== 'boolean') throw new PolicyError(`${p}.peak.weekdays`, 'must be true or false');
    peak = {
      percent: percent(k.percent, `${p}.peak.percent`),
      weekdaysOnly: k.weekdays === true,
      windows: arr(k.windows, `${p}.peak.windows`).map((w, i) => window(w, `${p}.peak.windows[${i}]`)),
    };
  }
  return { percent: percent(o.percent, `${p}.percent`), peak };
}

/**
 * Validates a policy document (the demo-network.json shape) and converts it to the model.
 * Throws PolicyError naming the first bad path. Notes and non-fare sections are ignored.
 */
export function parsePolicy(json: unknown): FarePolicy {
  const root = obj(json, '$');
  // The engine's calendar (business day, peak windows) is fixed to these; refuse anything else
  // rather than silently rating in the wrong zone.
  if (root.timezone !== undefined && root.timezone !== 'Asia/Shanghai') throw new PolicyError('timezone', 'only Asia/Shanghai is supported');
  if (root.businessDayStartsAt !== undefined && root.businessDayStartsAt !== '04:00') throw new PolicyError('businessDayStartsAt', 'only 04:00 is supported');
  const effectiveFrom = str(root.effectiveFrom, 'effectiveFrom');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(effectiveFrom)) throw new PolicyError('effectiveFrom', 'must be YYYY-MM-DD');
  let transfer: TransferRule | null = null;
  if (root.transfer !== undefined) {
    const t = obj(root.transfer, 'transfer');
    transfer = { windowSeconds: int(t.windowMinutes, 'transfer.windowMinutes') * 60, discountFen: fen(t.discount, 'transfer.discount') };
  }
  const policy: FarePolicy = {
    version: str(root.version, 'version'),
    effectiveFrom,
    bus: parseBus(root.bus),
    metro: parseMetro(root.metro),
    transfer,
    dailyCapFen: perCardType(root.dailyCap, 'dailyCap', fen),
    concessions: perCardType(root.concessions, 'concessions', parseConcession),
    offlineUploadDaysMax: root.offlineUploadDaysMax === undefined ? offlineUploadDaysDefault : int(root.offlineUploadDaysMax, 'offlineUploadDaysMax', 1),
  };
  // Building the network now finds a disconnected station at load time, not at some rider's tap-out.
  metroNetwork(policy.metro);
  return policy;
}

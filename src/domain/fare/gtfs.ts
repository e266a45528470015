// Imports a GTFS-Fares v2 feed into the same FarePolicy the engine rates with: bus routes get their
// network's flat leg fare, metro gets a zone (od) table from leg rules between areas, and one
// transfer discount comes from fare_transfer_rules. What GTFS cannot say (caps, concessions,
// anti-passback, same-station exit) is kept from the base policy. What a real feed has beyond the
// model is either mapped with a warning (cash-only products, agencies that are not registered
// operators) or refused naming file, row and field (timeframes, a stop in several areas).
import { parseCsv } from './csv.js';
import { PolicyError, type BusRoute, type FarePolicy, type OdFares, type TransferRule } from './model.js';

/** File name (e.g. "fare_products.txt") → its CSV text. */
export type GtfsFiles = Record<string, string>;

type Row = Record<string, string>;

/** How a feed's agencies become the back office's operators, and what is registered. */
export interface GtfsImportOptions {
  /** Registered operator ids; an agency that is not one is mapped (warning) or refused. Absent: agencies are taken as they are. */
  operators?: readonly string[];
  /** agency_id → operator id, chosen by whoever imports (scripts/import-gtfs.ts --agency A=OP). */
  agencyOperators?: Readonly<Record<string, string>>;
}

export interface GtfsImport {
  policy: FarePolicy;
  /** What was mapped or left out, one sentence each naming file, row and field. */
  warnings: string[];
  /** The agency → operator mapping used (stored with the feed so that a re-import maps the same). */
  agencyOperators: Record<string, string>;
}

/** fare_media_type values (GTFS): 0 none (cash, paid to the driver), 1 paper ticket, 2 transit card, 3 cEMV, 4 mobile app. */
const cardMediaType = '2';
const cashMediaType = '0';

interface LegRule {
  networkId: string;
  fromAreaId: string;
  toAreaId: string;
  priority: number | null;
  fareFen: bigint;
  where: string;
}

function rowsOf(files: GtfsFiles, name: string, required: boolean): Row[] {
  const text = files[name];
  if (text === undefined) {
    if (required) throw new PolicyError(name, 'file is missing from the feed');
    return [];
  }
  return parseCsv(text, name);
}

const at = (file: string, i: number, field: string): string => `${file} row ${i + 1} ${field}`;

function need(row: Row, file: string, i: number, field: string): string {
  const v = row[field] ?? '';
  if (v === '') throw new PolicyError(at(file, i, field), 'is required');
  return v;
}

/** "2.00" → 200n, "-1" → -100n: GTFS currency amounts as exact fen, never through a float. */
export function amountToFen(text: string, where: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new PolicyError(where, `"${text}" is not a CNY amount with at most 2 decimals`);
  const fen = BigInt(m[2] ?? '0') * 100n + BigInt((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' ? -fen : fen;
}

/**
 * fare_product_id → price on a stored-value transit card. A product may have one row per fare
 * medium; the card's row (fare_media_type 2) wins over a row with no medium, rows for other media
 * (paper, cEMV, app) and rider-category rows (concessions come from the base policy) are not ours.
 */
function cardPrices(files: GtfsFiles, otherMedia: Map<string, string>): Map<string, bigint> {
  const mediaType = new Map(rowsOf(files, 'fare_media.txt', false).map((r, i) => [need(r, 'fare_media.txt', i, 'fare_media_id'), need(r, 'fare_media.txt', i, 'fare_media_type')]));
  const best = new Map<string, { rank: number; fen: bigint }>();
  rowsOf(files, 'fare_products.txt', true).forEach((r, i) => {
    const f = 'fare_products.txt';
    const id = need(r, f, i, 'fare_product_id');
    const currency = need(r, f, i, 'currency');
    if (currency !== 'CNY') throw new PolicyError(at(f, i, 'currency'), `${currency} is not CNY`);
    const fen = amountToFen(need(r, f, i, 'amount'), at(f, i, 'amount'));
    const mediaId = r.fare_media_id ?? '';
    if ((r.rider_category_id ?? '') !== '') return;
    let rank = 1;
    if (mediaId !== '' && mediaType.size > 0) {
      const type = mediaType.get(mediaId);
      if (type === undefined) throw new PolicyError(at(f, i, 'fare_media_id'), `unknown fare medium ${mediaId}`);
      if (type !== cardMediaType) {
        if (!otherMedia.has(id)) otherMedia.set(id, `fare_products.txt row ${i + 1} (fare_media_id ${mediaId}, fare_media_type ${type}${type === cashMediaType ? ': cash' : ''})`);
        return;
      }
      rank = 2;
    }
    const seen = best.get(id);
    if (seen && seen.rank === rank && seen.fen !== fen) throw new PolicyError(at(f, i, 'amount'), `product ${id} has two card prices`);
    if (!seen || rank > seen.rank) best.set(id, { rank, fen });
  });
  return new Map([...best].map(([id, b]) => [id, b.fen]));
}

function legRules(files: GtfsFiles, prices: Map<string, bigint>, areaIds: Set<string>, skipped: LegRule[]): LegRule[] {
  const f = 'fare_leg_rules.txt';
  const rules: LegRule[] = [];
  rowsOf(files, f, true).forEach((r, i) => {
    for (const field of ['from_timeframe_group_id', 'to_timeframe_group_id']) {
      if ((r[field] ?? '') !== '') {
        throw new PolicyError(
          at(f, i, field),
          `timeframes are not supported (time-of-day pricing is a concession in this model): timeframe group ${r[field]} of timeframes.txt; give the rule without it, or model the peak as a concession window`,
        );
      }
    }
    for (const field of ['from_area_id', 'to_area_id']) {
      const area = r[field] ?? '';
      if (area !== '' && !areaIds.has(area)) throw new PolicyError(at(f, i, field), `unknown area ${area}`);
    }
    const productId = need(r, f, i, 'fare_product_id');
    const fareFen = prices.get(productId);
    if (fareFen === undefined) {
      // A product with no transit-card price (cash, paper): the rule is for another medium.
      skipped.push({ networkId: r.network_id ?? '', fromAreaId: r.from_area_id ?? '', toAreaId: r.to_area_id ?? '', priority: null, fareFen: 0n, where: `${f} row ${i + 1} fare_product_id ${productId}` });
      return;
    }
    if (fareFen < 0n) throw new PolicyError(at(f, i, 'fare_product_id'), 'a leg fare cannot be negative');
    const p = r.rule_priority ?? '';
    rules.push({ networkId: r.network_id ?? '', fromAreaId: r.from_area_id ?? '', toAreaId: r.to_area_id ?? '', priority: p === '' ? null : Number(p), fareFen, where: `${f} row ${i + 1}` });
  });
  return rules;
}

/**
 * The leg rule for a leg, per the spec's matching: with rule_priority, empty fields match anything
 * and the highest priority wins; without it, an exact value wins and an empty field stands for
 * "every value not listed" (network over the whole file, areas among the network's rules).
 */
function matchLeg(rules: LegRule[], networkId: string, fromAreaId: string, toAreaId: string): LegRule | undefined {
  let candidates: LegRule[];
  if (rules.some((r) => r.priority !== null)) {
    const fits = rules.filter((r) => (r.networkId === '' || r.networkId === networkId) && (r.fromAreaId === '' || r.fromAreaId === fromAreaId) && (r.toAreaId === '' || r.toAreaId === toAreaId));
    const top = Math.max(...fits.map((r) => r.priority ?? 0));
    candidates = fits.filter((r) => (r.priority ?? 0) === top);
  } else {
    const listed = rules.some((r) => r.networkId === networkId);
    const net = rules.filter((r) => r.networkId === (listed ? networkId : ''));
    const froms = new Set(net.map((r) => r.fromAreaId));
    const tos = new Set(net.map((r) => r.toAreaId));
    const fit = (rule: string, value: string, listedValues: Set<string>): boolean => rule === value || (rule === '' && !listedValues.has(value));
    candidates = net.filter((r) => fit(r.fromAreaId, fromAreaId, froms) && fit(r.toAreaId, toAreaId, tos));
  }
  const [first, ...rest] = candidates;
  const other = rest.find((r) => r.fareFen !== first?.fareFen);
  if (first && other) throw new PolicyError(other.where, `matches the same leg as ${first.where} with another fare`);
  return first;
}

type Mode = 'bus' | 'metro';

/** route_type → mode: 3 bus, 11 trolleybus, 7xx extended bus; 1 subway, 40x extended metro. */
function modeOf(routeType: string, where: string): Mode {
  const t = Number(routeType);
  if (t === 3 || t === 11 || (t >= 700 && t < 800)) return 'bus';
  if (t === 1 || (t >= 400 && t < 405)) return 'metro';
  throw new PolicyError(where, `route_type ${routeType} is neither bus nor metro`);
}

function transferRule(files: GtfsFiles, prices: Map<string, bigint>): TransferRule | null {
  const f = 'fare_transfer_rules.txt';
  let rule: TransferRule | null = null;
  rowsOf(files, f, false).forEach((r, i) => {
    // The engine has one discount off the next leg's fare: "A + AB + B" with a negative AB product,
    // timed from one leg's departure validation to the next one's.
    if (r.fare_transfer_type !== '1') throw new PolicyError(at(f, i, 'fare_transfer_type'), 'only 1 (A + AB + B, AB a negative discount) is supported');
    if (r.duration_limit_type !== '1') throw new PolicyError(at(f, i, 'duration_limit_type'), 'only 1 (departure to departure) is supported');
    if (!['', '-1'].includes(r.transfer_count ?? '')) throw new PolicyError(at(f, i, 'transfer_count'), 'only unlimited transfers (-1) are supported');
    const seconds = Number(need(r, f, i, 'duration_limit'));
    if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new PolicyError(at(f, i, 'duration_limit'), 'must be a positive integer of seconds');
    const productId = r.fare_product_id ?? '';
    const amount = productId === '' ? 0n : prices.get(productId);
    if (amount === undefined) throw new PolicyError(at(f, i, 'fare_product_id'), `product ${productId} has no transit-card price`);
    if (amount > 0n) throw new PolicyError(at(f, i, 'fare_product_id'), 'a transfer product must be a discount (amount ≤ 0)');
    const next = { windowSeconds: seconds, discountFen: -amount };
    if (rule && (rule.windowSeconds !== next.windowSeconds || rule.discountFen !== next.discountFen)) {
      throw new PolicyError(at(f, i, 'fare_product_id'), 'transfer rules differ; the engine has one transfer discount for all legs');
    }
    rule = next;
  });
  return rule;
}

/**
 * Maps a GTFS-Fares v2 feed onto `base`: bus routes and metro fares and the transfer discount come
 * from the feed (a mode the feed has no routes for keeps the base's), the rest from `base`. Metro
 * stations are the stops of stop_areas.txt, each in one area. Throws PolicyError naming file, row, field.
 */
export function importGtfsFares(files: GtfsFiles, base: FarePolicy, options: GtfsImportOptions = {}): FarePolicy {
  return importGtfsFeed(files, base, options).policy;
}

/** The mapping of one agency (routes.txt row `i`) to a registered operator of the mode, or a refusal naming it. */
function operatorFor(agencyId: string, mode: Mode, i: number, defaults: readonly string[], options: GtfsImportOptions, warnings: string[], used: Record<string, string>): string {
  const chosen = options.agencyOperators?.[agencyId];
  const registered = options.operators;
  if (chosen !== undefined) {
    if (registered && !registered.includes(chosen)) throw new PolicyError(at('routes.txt', i, 'agency_id'), `agency ${agencyId} is mapped to ${chosen}, which is not a registered operator`);
    used[agencyId] = chosen;
    return chosen;
  }
  if (!registered || registered.includes(agencyId)) {
    used[agencyId] = agencyId;
    return agencyId;
  }
  if (defaults.length !== 1) {
    throw new PolicyError(
      at('routes.txt', i, 'agency_id'),
      `agency ${agencyId} is not a registered operator and there is no single ${mode} operator to map it to (${defaults.join(', ') || 'none'}): map it with --agency ${agencyId}=<operatorId>`,
    );
  }
  const [operatorId] = defaults as [string];
  if (used[agencyId] === undefined) warnings.push(`routes.txt row ${i + 1} agency_id: agency ${agencyId} is not a registered operator; its ${mode} routes are mapped to ${operatorId} (choose with --agency ${agencyId}=<operatorId>)`);
  used[agencyId] = operatorId;
  return operatorId;
}

/** The import with what it mapped or left out (warnings) and the agency mapping it used. */
export function importGtfsFeed(files: GtfsFiles, base: FarePolicy, options: GtfsImportOptions = {}): GtfsImport {
  const warnings: string[] = [];
  const agencyOperators: Record<string, string> = {};
  const busDefaults = [...new Set(base.bus.routes.map((r) => r.operatorId))];
  const areaIds = new Set(rowsOf(files, 'areas.txt', false).map((r, i) => need(r, 'areas.txt', i, 'area_id')));
  const areaOfStation: Record<string, string> = {};
  rowsOf(files, 'stop_areas.txt', false).forEach((r, i) => {
    const stop = need(r, 'stop_areas.txt', i, 'stop_id');
    const area = need(r, 'stop_areas.txt', i, 'area_id');
    if (!areaIds.has(area)) throw new PolicyError(at('stop_areas.txt', i, 'area_id'), `unknown area ${area}`);
    const before = areaOfStation[stop];
    if (before !== undefined && before !== area) {
      throw new PolicyError(
        at('stop_areas.txt', i, 'stop_id'),
        `stop ${stop} is in areas ${before} and ${area}; one area per station is supported (a tap does not say which zone the rider meant): put the stop in one area, or make an area for the overlap with its own leg rules`,
      );
    }
    areaOfStation[stop] = area;
  });
  const otherMedia = new Map<string, string>();
  const prices = cardPrices(files, otherMedia);
  const skipped: LegRule[] = [];
  const rules = legRules(files, prices, areaIds, skipped);
  for (const s of skipped) {
    const product = s.where.split(' fare_product_id ')[1] ?? '';
    warnings.push(`${s.where}: product ${product} has no citizen-card price (${otherMedia.get(product) ?? 'no fare_products.txt row for the card'}); the rule is left out`);
  }
  if ((files['timeframes.txt'] ?? '') !== '' && !warnings.some((w) => w.includes('timeframe'))) {
    warnings.push('timeframes.txt: no leg rule refers to a timeframe; the file is not used');
  }
  const routeNetwork = new Map(rowsOf(files, 'route_networks.txt', false).map((r, i) => [need(r, 'route_networks.txt', i, 'route_id'), need(r, 'route_networks.txt', i, 'network_id')]));

  const busRoutes: BusRoute[] = [];
  const metro = { networks: new Set<string>(), agencies: new Set<string>() };
  rowsOf(files, 'routes.txt', true).forEach((r, i) => {
    const routeId = need(r, 'routes.txt', i, 'route_id');
    const networkId = (r.network_id ?? '') || (routeNetwork.get(routeId) ?? '');
    if (modeOf(need(r, 'routes.txt', i, 'route_type'), at('routes.txt', i, 'route_type')) === 'metro') {
      metro.networks.add(networkId);
      if (r.agency_id) metro.agencies.add(operatorFor(r.agency_id, 'metro', i, [base.metro.operatorId], options, warnings, agencyOperators));
      return;
    }
    const rule = matchLeg(rules, networkId, '', '');
    if (!rule) {
      const other = matchLeg(skipped, networkId, '', '');
      if (other) {
        throw new PolicyError(
          at('routes.txt', i, 'route_id'),
          `bus route ${routeId} has fares only for other media than the citizen card (${other.where}: ${otherMedia.get(other.where.split(' fare_product_id ')[1] ?? '') ?? 'no card price'}); the card cannot pay it: add a fare_products.txt row for the card medium (fare_media_type 2)`,
        );
      }
      throw new PolicyError(at('routes.txt', i, 'route_id'), `no fare leg rule for bus route ${routeId} (network ${networkId || '(none)'})`);
    }
    const name = r.route_long_name || r.route_short_name || routeId;
    const operatorId = operatorFor(need(r, 'routes.txt', i, 'agency_id'), 'bus', i, busDefaults, options, warnings, agencyOperators);
    busRoutes.push({ routeId, name, operatorId, fareFen: rule.fareFen });
  });

  let metroPolicy = base.metro;
  if (metro.networks.size > 0) {
    const [networkId, ...others] = metro.networks;
    if (others.length > 0) throw new PolicyError('routes.txt', 'metro routes must share one network (a tap does not say which line was ridden)');
    if (metro.agencies.size > 1) throw new PolicyError('routes.txt', 'metro routes must share one agency');
    const areas = [...new Set(Object.values(areaOfStation))];
    if (areas.length === 0) throw new PolicyError('stop_areas.txt', 'metro fares need stations in areas');
    const fares: OdFares['fares'] = [];
    for (const fromAreaId of areas) {
      for (const toAreaId of areas) {
        const rule = matchLeg(rules, networkId ?? '', fromAreaId, toAreaId);
        if (rule) fares.push({ fromAreaId, toAreaId, fareFen: rule.fareFen });
      }
    }
    const [agency] = metro.agencies;
    metroPolicy = { ...base.metro, operatorId: agency ?? base.metro.operatorId, lines: [], fareBands: [], beyondLastBand: null, odFares: { areaOfStation, fares } };
  }

  const info = rowsOf(files, 'feed_info.txt', false)[0];
  const start = info?.feed_start_date ?? '';
  if (start !== '' && !/^\d{8}$/.test(start)) throw new PolicyError('feed_info.txt row 1 feed_start_date', 'must be YYYYMMDD');
  const policy: FarePolicy = {
    ...base,
    version: info?.feed_version || `${base.version}+gtfs`,
    effectiveFrom: start === '' ? base.effectiveFrom : `${start.slice(0, 4)}-${start.slice(4, 6)}-${start.slice(6)}`,
    bus: busRoutes.length > 0 ? { ...base.bus, routes: busRoutes } : base.bus,
    metro: metroPolicy,
    transfer: files['fare_transfer_rules.txt'] === undefined ? base.transfer : transferRule(files, prices),
  };
  return { policy, warnings, agencyOperators };
}

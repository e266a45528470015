// Ridership statistics of a business date (DESIGN §8): boardings per route (bus) or station (metro
// tap-in) and hour, and the origin–destination matrix of completed metro journeys. No published cell
// has fewer than `ridersMin` riders (distinct cards): such cells are suppressed (marked, no numbers),
// and so many more of the smallest as needed that the suppressed cells' sum, which is published so
// that the table adds up to the day's total, always covers at least two cells and `ridersMin`
// riders (secondary suppression: one suppressed cell could otherwise be worked out by subtraction).
import { csvLine, fileJson, writeReport, type JobContext, type JobResult } from './ports.js';
import { assert } from '../../platform/assert.js';

export const ridersMin = 5;
/** Cells of one table held for suppression (bounded by the network: stations × hours, stations²). */
export const ridershipCellsMax = 1_000_000;

export interface BoardingCell {
  mode: 'bus' | 'metro';
  /** Bus route, or '' for metro. */
  routeId: string;
  /** Metro entry station, or '' for bus. */
  stationId: string;
  /** Hour of day in Asia/Shanghai, 0–23. */
  hour: number;
  boardings: number;
  riders: number;
}

export interface OdCell {
  origin: string;
  destination: string;
  journeys: number;
  riders: number;
}

export interface RidershipView {
  /** Boarding cells ordered by mode, route, station, then hour of the business day (04 first). */
  boardings(): AsyncIterable<BoardingCell>;
  /** OD cells of completed journeys ordered by origin then destination. */
  od(): AsyncIterable<OdCell>;
  /** Completed metro journeys of the day, counted on their own (the OD matrix must add up to it). */
  completedJourneys(): Promise<number>;
}

export interface RidershipSource {
  /** One consistent view of the day's taps and journeys. */
  view<T>(businessDate: string, work: (view: RidershipView) => Promise<T>): Promise<T>;
}

/** Which cells to suppress: every cell under `min` riders, then the smallest others until the suppressed sum is safe. */
export function suppress<C extends { riders: number }>(cells: readonly C[], min = ridersMin): Set<number> {
  const out = new Set<number>();
  let riders = 0;
  cells.forEach((c, i) => {
    if (c.riders < min) {
      out.add(i);
      riders += c.riders;
    }
  });
  if (out.size === 0) return out;
  const rest = cells.map((c, i) => ({ c, i })).filter(({ i }) => !out.has(i)).sort((a, b) => a.c.riders - b.c.riders || a.i - b.i);
  for (const { c, i } of rest) {
    if (out.size >= 2 && riders >= min) break;
    out.add(i);
    riders += c.riders;
  }
  return out;
}

async function collect<C>(cells: AsyncIterable<C>): Promise<C[]> {
  const out: C[] = [];
  for await (const c of cells) {
    out.push(c);
    assert(out.length <= ridershipCellsMax, 'ridership table larger than ridershipCellsMax cells');
  }
  return out;
}

export async function runRidership(ctx: JobContext, deps: { source: RidershipSource }): Promise<JobResult> {
  const date = ctx.businessDate;
  await ctx.progress(5);
  const { boardings, od, completed } = await deps.source.view(date, async (view) => ({
    boardings: await collect(view.boardings()),
    od: await collect(view.od()),
    completed: await view.completedJourneys(),
  }));
  await ctx.progress(50);
  const hidden = suppress(boardings);
  const b = { total: 0, published: 0, suppressed: 0, cells: boardings.length, suppressedCells: hidden.size };
  const boardingsFile = await writeReport(ctx.reports, `ridership-boardings-${date}.csv`, async (w) => {
    await w.line(csvLine(['business_date', 'mode', 'route_id', 'station_id', 'hour', 'boardings', 'riders', 'suppressed']));
    for (const [i, c] of boardings.entries()) {
      b.total += c.boardings;
      const hour = String(c.hour).padStart(2, '0');
      if (hidden.has(i)) {
        b.suppressed += c.boardings;
        await w.line(csvLine([date, c.mode, c.routeId, c.stationId, hour, '', '', 'yes']));
      } else {
        b.published += c.boardings;
        await w.line(csvLine([date, c.mode, c.routeId, c.stationId, hour, c.boardings, c.riders, '']));
      }
    }
    await w.line(csvLine([date, 'SUPPRESSED', `${hidden.size} cells`, '', '', b.suppressed, '', 'yes']));
    await w.line(csvLine([date, 'TOTAL', 'published + suppressed', '', '', b.total, '', '']));
  });
  const hiddenOd = suppress(od);
  const o = { completedJourneys: completed, published: 0, suppressed: 0, cells: od.length, suppressedCells: hiddenOd.size };
  const odFile = await writeReport(ctx.reports, `ridership-od-${date}.csv`, async (w) => {
    await w.line(csvLine(['business_date', 'origin_station_id', 'destination_station_id', 'journeys', 'riders', 'suppressed']));
    for (const [i, c] of od.entries()) {
      if (hiddenOd.has(i)) {
        o.suppressed += c.journeys;
        await w.line(csvLine([date, c.origin, c.destination, '', '', 'yes']));
      } else {
        o.published += c.journeys;
        await w.line(csvLine([date, c.origin, c.destination, c.journeys, c.riders, '']));
      }
    }
    await w.line(csvLine([date, 'SUPPRESSED', `${hiddenOd.size} cells`, o.suppressed, '', 'yes']));
    await w.line(csvLine([date, 'TOTAL', 'completed journeys', completed, '', '']));
  });
  // The matrix adds up: published + suppressed = completed journeys of the day (one snapshot).
  assert(o.published + o.suppressed === completed, `OD matrix ${o.published} + ${o.suppressed} differs from ${completed} completed journeys`);
  return {
    businessDate: date,
    ridersMin,
    boardings: b,
    od: o,
    files: [fileJson(boardingsFile), fileJson(odFile)],
  };
}

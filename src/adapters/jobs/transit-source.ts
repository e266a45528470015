// PostgreSQL side of the ridership job: the day's accepted boardings (bus taps, metro tap-ins) and
// completed metro journeys, aggregated in PostgreSQL into cells with their distinct riders, read
// through a cursor. Tables: taps (migrations/0003_iso_taps.sql), journeys (0007_transit.sql).
import type { Pool } from '../postgres/db.js';
import { withSnapshot } from './pg-stream.js';
import type { BoardingCell, OdCell, RidershipSource, RidershipView } from '../../app/jobs/ridership.js';
import { scheduleTimezone } from '../../app/jobs/calendar.js';

const boardingsSql = `
SELECT mode, coalesce(route_id, '') AS route_id, coalesce(station_id, '') AS station_id, hour,
       count(*)::int AS boardings, count(DISTINCT card_no)::int AS riders
  FROM (SELECT CASE WHEN kind = 'bus' THEN 'bus' ELSE 'metro' END AS mode,
               CASE WHEN kind = 'bus' THEN route_id END AS route_id,
               CASE WHEN kind = 'metro-in' THEN station_id END AS station_id,
               extract(hour FROM tapped_at AT TIME ZONE '${scheduleTimezone}')::int AS hour, card_no
          FROM taps
         WHERE business_date = $1 AND status = 'accepted' AND kind IN ('bus', 'metro-in')) b
 GROUP BY mode, route_id, station_id, hour
 ORDER BY mode, route_id COLLATE "C", station_id COLLATE "C", (hour + 20) % 24`;

const odSql = `
SELECT * FROM (
  SELECT coalesce(entry_station_id, '') AS origin, coalesce(exit_station_id, '') AS destination,
         count(*)::int AS journeys, count(DISTINCT card_no)::int AS riders
    FROM journeys
   WHERE business_date = $1 AND status = 'complete'
   GROUP BY 1, 2) od
 ORDER BY origin COLLATE "C", destination COLLATE "C"`;

export class PgTransitSource implements RidershipSource {
  constructor(private readonly pool: Pool) {}

  view<T>(businessDate: string, work: (view: RidershipView) => Promise<T>): Promise<T> {
    return withSnapshot(this.pool, (snapshot) =>
      work({
        async *boardings(): AsyncGenerator<BoardingCell> {
          for await (const r of snapshot.stream<{ mode: 'bus' | 'metro'; route_id: string; station_id: string; hour: number; boardings: number; riders: number }>(boardingsSql, [businessDate])) {
            yield { mode: r.mode, routeId: r.route_id, stationId: r.station_id, hour: r.hour, boardings: r.boardings, riders: r.riders };
          }
        },
        async *od(): AsyncGenerator<OdCell> {
          for await (const r of snapshot.stream<{ origin: string; destination: string; journeys: number; riders: number }>(odSql, [businessDate])) {
            yield { origin: r.origin, destination: r.destination, journeys: r.journeys, riders: r.riders };
          }
        },
        async completedJourneys(): Promise<number> {
          const rows = await snapshot.query<{ n: number }>(`SELECT count(*)::int AS n FROM journeys WHERE business_date = $1 AND status = 'complete'`, [businessDate]);
          return rows[0]!.n;
        },
      }),
    );
  }
}

// The per-card offline risk budget (docs/transit.md): rides a card may take at one offline reader
// before it must be seen online, so that one reader's offline rides are covered by the balance.
import { metroNetwork } from './network.js';
import type { FarePolicy } from './model.js';

/** Rides an offline reader allows a card at most, whatever its balance. */
export const offlineRidesMax = 10;
/** A card listed for debt within this many days gets half the rides. */
export const offlineDebtLookbackDays = 30;

/** The most one transit ride can cost under a policy (before concessions): the budget's unit. */
export function offlineRideMaxFen(policy: FarePolicy): bigint {
  let max = 0n;
  for (const r of policy.bus.routes) if (r.fareFen > max) max = r.fareFen;
  const network = metroNetwork(policy.metro);
  for (const line of policy.metro.lines) {
    for (const s of line.stations) {
      const f = network.maxFareFrom(s.stationId)?.fareFen ?? 0n;
      if (f > max) max = f;
    }
  }
  return max;
}

/** The rule, for one card (the job applies it set-based in SQL with the same constants). */
export function offlineRides(o: { balanceFen: bigint; active: boolean; rideMaxFen: bigint; recentDebt: boolean }): number {
  if (!o.active || o.balanceFen <= 0n || o.rideMaxFen <= 0n) return 0;
  const byBalance = o.balanceFen / o.rideMaxFen;
  const rides = Number(byBalance < BigInt(offlineRidesMax) ? byBalance : BigInt(offlineRidesMax));
  return o.recentDebt ? Math.floor(rides / 2) : rides;
}

// The offline risk budget rule (src/domain/fare/offline-budget.ts), which the hotlist job applies in
// SQL with the same constants (test/integration/transit-budget.test.ts checks the published values).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { offlineRideMaxFen, offlineRides, offlineRidesMax, parsePolicy } from '../../src/domain/fare/index.js';

const policy = parsePolicy(JSON.parse(readFileSync(new URL('../../data/demo-network.json', import.meta.url), 'utf8')));

describe('offline risk budget', () => {
  it('counts in the dearest ride of the policy: the metro maximum, 500 (bus fares are 100–200)', () => {
    expect(offlineRideMaxFen(policy)).toBe(500n);
  });

  it('gives whole rides the balance covers, at most offlineRidesMax, halved after a recent debt, none to a card not active or not above zero', () => {
    const base = { rideMaxFen: 500n, active: true, recentDebt: false };
    expect(offlineRides({ ...base, balanceFen: 499n })).toBe(0);
    expect(offlineRides({ ...base, balanceFen: 1200n })).toBe(2);
    expect(offlineRides({ ...base, balanceFen: 1_000_000n })).toBe(offlineRidesMax);
    expect(offlineRides({ ...base, balanceFen: 1500n, recentDebt: true })).toBe(1);
    expect(offlineRides({ ...base, balanceFen: -300n })).toBe(0);
    expect(offlineRides({ ...base, balanceFen: 5000n, active: false })).toBe(0);
    // What one reader lets through is covered by the balance when published.
    for (const balanceFen of [0n, 499n, 500n, 2750n, 4999n, 99_999n]) expect(BigInt(offlineRides({ ...base, balanceFen })) * 500n <= balanceFen).toBe(true);
  });
});

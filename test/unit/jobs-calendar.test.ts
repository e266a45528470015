// Pure parts of the nightly jobs (issue: nightly jobs): the calendar and run ids, clearing
// arithmetic (half-even commission, legs for a negative day), ridership suppression.
import { describe, expect, it } from 'vitest';
import { cronPattern, isCalendarDate, nightlyCalendar, parseRunJobId, previousBusinessDate, runJobId, schedulersWanted } from '../../src/app/jobs/calendar.js';
import { clearingLegs, clearParty } from '../../src/app/jobs/clearing.js';
import { suppress } from '../../src/app/jobs/ridership.js';
import { csvLine } from '../../src/app/jobs/ports.js';

describe('calendar', () => {
  it('runs every job after the 04:00 cut-over, in a fixed order, as cron in Shanghai time', () => {
    expect(nightlyCalendar.map((j) => j.at)).toEqual([...nightlyCalendar.map((j) => j.at)].sort());
    for (const j of nightlyCalendar) expect(j.at > '04:00').toBe(true);
    expect(cronPattern('04:10')).toBe('10 4 * * *');
    expect(cronPattern('05:00')).toBe('0 5 * * *');
  });

  it('works on the business date that closed before the run', () => {
    // 04:10 Shanghai on 2 May = 20:10 UTC on 1 May: business date 2 May has begun; the run is for 1 May.
    expect(previousBusinessDate(new Date('2024-05-01T20:10:00Z'))).toBe('2024-05-01');
    // 03:59 Shanghai on 2 May still belongs to 1 May: the previous one is 30 April.
    expect(previousBusinessDate(new Date('2024-05-01T19:59:00Z'))).toBe('2024-04-30');
    expect(previousBusinessDate(new Date('2024-03-01T20:10:00Z'))).toBe('2024-03-01');
  });

  it('names runs so that a duplicate is the same id and a rerun a new one, without a lone colon', () => {
    expect(runJobId('clearing', '2024-05-01')).toBe('clearing@2024-05-01');
    expect(runJobId('clearing', '2024-05-01', 3)).toBe('clearing@2024-05-01@r3');
    expect(parseRunJobId('reconcile-terminals@2024-05-01@r2')).toEqual({ name: 'reconcile-terminals', businessDate: '2024-05-01', runNo: 2 });
    expect(parseRunJobId('clearing:2024-05-01')).toBeNull();
    for (const id of [runJobId('hotlist', '2024-01-31'), runJobId('hotlist', '2024-01-31', 9)]) expect(id).not.toContain(':');
  });

  it('accepts only real calendar dates', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2023-02-29')).toBe(false);
    expect(isCalendarDate('2024-04-31')).toBe(false);
    expect(isCalendarDate('2024-4-01')).toBe(false);
  });
});

describe('clearing arithmetic', () => {
  it('rounds the commission half to even, to whole fen', () => {
    expect(clearParty({ creditFen: 1300n, debitFen: 0n, commissionRate: '0.005000' })).toEqual({ grossFen: 1300n, commissionFen: 6n, netFen: 1294n }); // 6.5 → 6
    expect(clearParty({ creditFen: 1500n, debitFen: 0n, commissionRate: '0.005000' })).toEqual({ grossFen: 1500n, commissionFen: 8n, netFen: 1492n }); // 7.5 → 8
    expect(clearParty({ creditFen: 19184n, debitFen: 1000n, commissionRate: '0.0060' })).toEqual({ grossFen: 18184n, commissionFen: 109n, netFen: 18075n });
    expect(clearParty({ creditFen: 5000n, debitFen: 0n, commissionRate: null })).toEqual({ grossFen: 5000n, commissionFen: 0n, netFen: 5000n });
  });

  it('moves a positive day out of the party account and a negative day back into it', () => {
    const account = { kind: 'payable' as const, ownerId: 'M1' };
    expect(clearingLegs(account, { grossFen: 1000n, commissionFen: 6n, netFen: 994n })).toEqual([
      { debit: account, credit: { kind: 'settlement', ownerId: '' }, amountFen: 994n },
      { debit: account, credit: { kind: 'fees', ownerId: '' }, amountFen: 6n },
    ]);
    expect(clearingLegs(account, clearParty({ creditFen: 0n, debitFen: 300n, commissionRate: '0.006' }))).toEqual([
      { debit: { kind: 'settlement', ownerId: '' }, credit: account, amountFen: 298n },
      { debit: { kind: 'fees', ownerId: '' }, credit: account, amountFen: 2n },
    ]);
    expect(clearingLegs(account, { grossFen: 0n, commissionFen: 0n, netFen: 0n })).toEqual([]);
  });
});

describe('ridership suppression', () => {
  const cells = (...riders: number[]) => riders.map((r) => ({ riders: r }));

  it('suppresses nothing when every cell has at least 5 riders', () => {
    expect(suppress(cells(5, 9, 12)).size).toBe(0);
  });

  it('adds the smallest other cells until the suppressed sum covers two cells and 5 riders', () => {
    expect([...suppress(cells(4, 9, 6, 12))].sort()).toEqual([0, 2]);
    expect([...suppress(cells(1, 2, 9, 7))].sort()).toEqual([0, 1, 3]);
    expect([...suppress(cells(3, 4, 20))].sort()).toEqual([0, 1]);
    // Nothing else to add: everything is suppressed.
    expect([...suppress(cells(2))]).toEqual([0]);
  });
});

describe('csv', () => {
  it('quotes only fields that need it', () => {
    expect(csvLine(['a', 1, 2n, 'x,y', 'say "hi"'])).toBe('a,1,2,"x,y","say ""hi"""');
  });
});

describe('JOBS_SCHEDULERS', () => {
  it('installs the schedulers by default, not under the test runner, and as configured', () => {
    expect(schedulersWanted({})).toBe(true);
    expect(schedulersWanted({ VITEST: 'true' })).toBe(false);
    expect(schedulersWanted({ VITEST: 'true', JOBS_SCHEDULERS: '1' })).toBe(true);
    expect(schedulersWanted({ JOBS_SCHEDULERS: '0' })).toBe(false);
    expect(() => schedulersWanted({ JOBS_SCHEDULERS: 'yes' })).toThrow(/JOBS_SCHEDULERS/);
  });
});

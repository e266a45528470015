// Pure parts of the citizen area: masking of names and long numbers, the citizen's view of a
// history item, and the per-second sampling of the authorizer's counters.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { citizenItem, maskLongNumbers, maskName } from '../../src/app/citizen.js';
import { OutcomeSampler, statsSamplesMax } from '../../src/app/console.js';
import { fixedClock } from '../../src/platform/clock.js';

describe('maskName', () => {
  it('keeps the first and last character', () => {
    expect(maskName('张伟明')).toBe('张*明');
    expect(maskName('李四')).toBe('李*');
    expect(maskName('欧阳娜娜')).toBe('欧**娜');
    expect(maskName('Test Citizen')).toBe('T**********n');
    expect(maskName('X')).toBe('*');
    expect(maskName('')).toBe('*');
  });

  it('never shows more than two characters of a name of three or more', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 3, maxLength: 30 }).filter((s) => [...s.trim()].length >= 3), (name) => {
        const masked = [...maskName(name)];
        expect(masked.length).toBe([...name.trim()].length);
        expect(masked.filter((c) => c !== '*').length).toBeLessThanOrEqual(2);
      }),
    );
  });
});

describe('maskLongNumbers', () => {
  it('masks card and id numbers, keeps short ids', () => {
    expect(maskLongNumbers('6200900000000014')).toBe('6200********0014');
    expect(maskLongNumbers('citizen-6200900000000014-abc')).toBe('citizen-6200********0014-abc');
    expect(maskLongNumbers('41010219850712345X')).toBe('4101*********2345X'); // the birth date (digits 7-14) is hidden
    expect(maskLongNumbers('M0000000000001 T0001 pay-12345')).toBe('M0000000000001 T0001 pay-12345');
  });

  it('leaves no run of 15 or more digits', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.stringMatching(/^[0-9]{1,25}$/), fc.stringMatching(/^[a-z -]{1,5}$/)), { maxLength: 8 }), (parts) => {
        expect(maskLongNumbers(parts.join(''))).not.toMatch(/\d{15}/);
      }),
    );
  });
});

describe('citizenItem', () => {
  it('masks the reference and string details, keeps amounts and explanations', () => {
    const item = citizenItem({
      transactionId: '9',
      kind: 'card-replace',
      reference: '6200900000000014',
      account: 'purse',
      amount: 4600,
      businessDate: '2026-01-05',
      createdAt: '2026-01-05T02:00:00.000Z',
      terminalId: null,
      explanation: ['base fare 200'],
      detail: { routeId: 'B2', fare: 200 },
    });
    expect(item).toMatchObject({ reference: '6200********0014', amount: 4600, explanation: ['base fare 200'], detail: { routeId: 'B2', fare: 200 } });
  });
});

describe('OutcomeSampler', () => {
  it('turns running counts into per-second deltas, bounded to the last samples', async () => {
    const counts = new Map<string, number>([['00', 5]]);
    const clock = fixedClock(new Date('2026-01-05T02:00:00Z'));
    // The reader gives counts per channel: the sampler adds them up by code.
    const read = async () => [...counts].flatMap(([code, count]) => [
      { channel: 'http', operation: 'payment', code, count: count - 1 },
      { channel: 'iso', operation: 'payment', code, count: 1 },
    ]);
    const sampler = new OutcomeSampler(read, clock);
    counts.set('00', 12);
    counts.set('51', 2);
    clock.advance(1000);
    expect(await sampler.sample()).toEqual({ at: '2026-01-05T02:00:01.000Z', total: 9, byCode: { '00': 7, '51': 2 } });
    clock.advance(1000);
    expect(await sampler.sample()).toEqual({ at: '2026-01-05T02:00:02.000Z', total: 0, byCode: {} });
    const snap = await sampler.snapshot();
    expect(snap).toMatchObject({ perSecond: 0, peakPerSecond: 9, approved: 12, declined: 2 });
    expect(snap.totals).toEqual([
      { code: '00', meaning: 'approved', count: 12 },
      { code: '51', meaning: 'insufficient funds', count: 2 },
    ]);
    for (let i = 0; i < statsSamplesMax + 10; i++) await sampler.sample();
    expect((await sampler.snapshot()).samples).toHaveLength(statsSamplesMax);
  });
});

// The registry's concession rules (pure): age on a date, the senior birthday (29 February), and
// which card type and recompute date a person's fields give.
import { describe, expect, it } from 'vitest';
import { ageOn, birthdayAt, cardEffectOf } from '../../src/domain/registry/concession.js';
import { fieldValueError } from '../../src/domain/registry/fields.js';

const rules = { seniorAge: 60 };
const fields = (o: Record<string, string | boolean | null>) => new Map(Object.entries(o));

describe('age and birthdays', () => {
  it('counts completed years, the day before and on the birthday', () => {
    expect(ageOn('1966-03-03', '2026-03-02')).toBe(59);
    expect(ageOn('1966-03-03', '2026-03-03')).toBe(60);
    expect(ageOn('1966-12-31', '2026-01-01')).toBe(59);
  });

  it('lets a 29 February birthday count from 1 March in a common year', () => {
    expect(birthdayAt('1964-02-29', 62)).toBe('2026-03-01');
    expect(ageOn('1964-02-29', '2026-02-28')).toBe(61);
    expect(ageOn('1964-02-29', '2026-03-01')).toBe(62);
    expect(birthdayAt('1964-02-29', 60)).toBe('2024-02-29');
  });
});

describe('card effect of the registry', () => {
  it('gives senior from the policy age, with the birthday as the recompute date before it', () => {
    expect(cardEffectOf(fields({ birthDate: '1966-03-03' }), rules, '2026-03-02')).toEqual({ cardType: 'adult', until: '2026-03-03', blockReason: null });
    expect(cardEffectOf(fields({ birthDate: '1966-03-03' }), rules, '2026-03-03')).toEqual({ cardType: 'senior', until: null, blockReason: null });
    expect(cardEffectOf(fields({ birthDate: '1966-03-03' }), { seniorAge: 65 }, '2026-03-03')).toMatchObject({ cardType: 'adult', until: '2031-03-03' });
  });

  it('puts a disability certificate first, then senior, then a student enrolment', () => {
    expect(cardEffectOf(fields({ birthDate: '1950-01-01', disabilityCertificate: 'C-1' }), rules, '2026-03-02').cardType).toBe('disabled');
    expect(cardEffectOf(fields({ birthDate: '2008-01-01', studentEnrolment: 'No. 1 High School' }), rules, '2026-03-02')).toMatchObject({ cardType: 'student', until: '2068-01-01' });
    expect(cardEffectOf(fields({ birthDate: '1950-01-01', studentEnrolment: 'University for the elderly' }), rules, '2026-03-02').cardType).toBe('senior');
  });

  it('says nothing about the type without birth date, certificate or enrolment', () => {
    expect(cardEffectOf(fields({ name: 'X' }), rules, '2026-03-02')).toEqual({ cardType: null, until: null, blockReason: null });
    expect(cardEffectOf(fields({ disabilityCertificate: null }), rules, '2026-03-02').cardType).toBeNull();
  });

  it('blocks the cards of a deceased or moved-away person', () => {
    expect(cardEffectOf(fields({ lifeStatus: 'deceased' }), rules, '2026-03-02').blockReason).toBe('deceased');
    expect(cardEffectOf(fields({ residenceStatus: 'moved_away' }), rules, '2026-03-02').blockReason).toBe('moved away');
    expect(cardEffectOf(fields({ lifeStatus: 'alive', residenceStatus: 'resident' }), rules, '2026-03-02').blockReason).toBeNull();
  });

  it('checks field values at the edge', () => {
    expect(fieldValueError('birthDate', '2026-02-29')).not.toBeNull();
    expect(fieldValueError('birthDate', '2024-02-29')).toBeNull();
    expect(fieldValueError('name', null)).not.toBeNull();
    expect(fieldValueError('disabilityCertificate', null)).toBeNull();
    expect(fieldValueError('eligibleConcessions', ['senior', 'senior'])).not.toBeNull();
    expect(fieldValueError('eligibleConcessions', ['senior', 'low_income'])).toBeNull();
    expect(fieldValueError('insured', 'yes')).not.toBeNull();
  });
});

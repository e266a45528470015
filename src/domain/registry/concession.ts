// What the registry says about a person's cards: the concession card type (senior from the policy's
// age, disabled with a certificate, student with an enrolment), the date from which that must be
// recomputed (the birthday reaching the senior age), and whether the cards must be blocked. Pure.
import type { FieldValue } from './fields.js';

export type RegistryCardType = 'adult' | 'student' | 'senior' | 'disabled';

export interface ConcessionRules {
  seniorAge: number;
}

export const seniorAgeDefault = 60;

export interface CardEffect {
  /** null: the registry holds nothing that decides a concession; the card's issued type applies. */
  cardType: RegistryCardType | null;
  /** The first business date on which cardType must be recomputed (a birthday), or null. */
  until: string | null;
  /** Set when the person's cards must be blocked (deceased, moved away). */
  blockReason: 'deceased' | 'moved away' | null;
}

/** Completed years on a date (both YYYY-MM-DD); a 29 February birthday counts from 1 March. */
export function ageOn(birthDate: string, date: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) age--;
  return age;
}

/** The date a person born on birthDate reaches `years`. */
export function birthdayAt(birthDate: string, years: number): string {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(by + years, bm - 1, bd));
  // 29 February in a common year rolls to 1 March, as ageOn counts it.
  return target.toISOString().slice(0, 10);
}

export function cardEffectOf(fields: ReadonlyMap<string, FieldValue>, rules: ConcessionRules, today: string): CardEffect {
  const blockReason = fields.get('lifeStatus') === 'deceased' ? 'deceased' : fields.get('residenceStatus') === 'moved_away' ? 'moved away' : null;
  const birthDate = typeof fields.get('birthDate') === 'string' ? (fields.get('birthDate') as string) : null;
  const certificate = fields.get('disabilityCertificate');
  const enrolment = fields.get('studentEnrolment');
  const hasCertificate = typeof certificate === 'string' && certificate.length > 0;
  const enrolled = typeof enrolment === 'string' && enrolment.length > 0;
  if (!birthDate && !hasCertificate && !enrolled) return { cardType: null, until: null, blockReason };
  if (hasCertificate) return { cardType: 'disabled', until: null, blockReason };
  const senior = birthDate !== null && ageOn(birthDate, today) >= rules.seniorAge;
  if (senior) return { cardType: 'senior', until: null, blockReason };
  const until = birthDate ? birthdayAt(birthDate, rules.seniorAge) : null;
  return { cardType: enrolled ? 'student' : 'adult', until, blockReason };
}

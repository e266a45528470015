// Fare-policy sandbox arithmetic: one card's day rated under two policies, and the running totals
// of a re-rating (revenue per operator and route, per card type and district, per-card differences).
// Pure: no I/O, money in bigint fen.
import { rateDay, type Tap, type TapResult } from './engine.js';
import type { CardType, FarePolicy } from './model.js';

export const largestChangesMax = 10;

export interface SandboxTap extends Tap {
  /** The operator the tap was credited to (taxi: the terminal's operator). */
  operatorId: string | null;
}

interface Money {
  inForceFen: bigint;
  draftFen: bigint;
}

export interface CardRating {
  cardNo: string;
  cardType: string;
  district: string | null;
  inForceFen: bigint;
  draftFen: bigint;
  /** Taps the draft declines (an unknown route): counted at no fare. */
  draftDeclined: number;
}

const lineOf = (tap: SandboxTap): string => tap.routeId ?? (tap.kind === 'taxi' ? 'taxi' : 'metro');

function attribute(into: Map<string, Money>, key: string, side: keyof Money, fen: bigint): void {
  const m = into.get(key) ?? { inForceFen: 0n, draftFen: 0n };
  m[side] += fen;
  into.set(key, m);
}

export class SandboxTotals {
  readonly byOperator = new Map<string, Money>();
  readonly byRoute = new Map<string, Money>();
  readonly byCardType = new Map<string, Money & { cards: number }>();
  readonly byDistrict = new Map<string, Money & { cards: number }>();
  readonly changes: { cardNo: string; cardType: string; changeFen: bigint; inForceFen: bigint; draftFen: bigint }[] = [];
  cards = 0;
  taps = 0;
  more = 0;
  less = 0;
  same = 0;
  draftDeclined = 0;
  inForceFen = 0n;
  draftFen = 0n;

  /** Rates one card's day under both policies and adds it to the totals. */
  addCard(card: { cardNo: string; cardType: string; district: string | null }, taps: readonly SandboxTap[], inForce: FarePolicy, draft: FarePolicy, closeAt: Date): CardRating {
    const sides = [
      ['inForceFen', inForce],
      ['draftFen', draft],
    ] as const;
    const rating: CardRating = { ...card, inForceFen: 0n, draftFen: 0n, draftDeclined: 0 };
    for (const [side, policy] of sides) {
      const day = rateDay(policy, { cardType: card.cardType as CardType }, taps, { closeAt });
      day.results.forEach((r: TapResult, i) => {
        const tap = taps[i]!;
        if (!r.ok) {
          if (side === 'draftFen') rating.draftDeclined++;
          return;
        }
        this.book(side, r.operatorId ?? tap.operatorId ?? 'unknown', lineOf(tap), r.fareFen);
      });
      if (day.closing?.ok) this.book(side, day.closing.operatorId ?? 'unknown', 'metro', day.closing.fareFen);
      rating[side] = day.totalFen;
    }
    this.cards++;
    this.taps += taps.length;
    this.draftDeclined += rating.draftDeclined;
    this.inForceFen += rating.inForceFen;
    this.draftFen += rating.draftFen;
    for (const [map, key] of [
      [this.byCardType, card.cardType],
      [this.byDistrict, card.district ?? 'unknown'],
    ] as const) {
      const m = map.get(key) ?? { inForceFen: 0n, draftFen: 0n, cards: 0 };
      m.inForceFen += rating.inForceFen;
      m.draftFen += rating.draftFen;
      m.cards++;
      map.set(key, m);
    }
    const changeFen = rating.draftFen - rating.inForceFen;
    if (changeFen > 0n) this.more++;
    else if (changeFen < 0n) this.less++;
    else this.same++;
    if (changeFen !== 0n) this.keepLargest({ cardNo: card.cardNo, cardType: card.cardType, changeFen, inForceFen: rating.inForceFen, draftFen: rating.draftFen });
    return rating;
  }

  private book(side: keyof Money, operatorId: string, line: string, fen: bigint): void {
    attribute(this.byOperator, operatorId, side, fen);
    attribute(this.byRoute, `${operatorId}\u0000${line}`, side, fen);
  }

  /** Keeps the largest absolute changes only (bounded memory over any number of cards). */
  private keepLargest(c: SandboxTotals['changes'][number]): void {
    const abs = (x: bigint): bigint => (x < 0n ? -x : x);
    this.changes.push(c);
    this.changes.sort((a, b) => (abs(b.changeFen) > abs(a.changeFen) ? 1 : abs(b.changeFen) < abs(a.changeFen) ? -1 : a.cardNo.localeCompare(b.cardNo)));
    if (this.changes.length > largestChangesMax) this.changes.length = largestChangesMax;
  }
}

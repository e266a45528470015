// Clearing and settlement of one business date (DESIGN §8): per operator (receivable account) and
// merchant (payable account), the day's postings, gross, commission (decimal rate, half-even to
// fen) and net; a settlement CSV; and one ledger command per party and date that moves the net to
// `settlement` and the commission to `fees`. The command's key (clearing, `<date>:<party>`) makes a
// rerun, or a retry after a crash halfway, post nothing twice.
import type { Ledger } from '../ports.js';
import type { AccountRef } from '../ports.js';
import { applyRate } from '../../domain/money.js';
import { requestHash } from '../../platform/hash.js';

/** A fen amount stored as a decimal string (a command's detail) as a JSON integer; null if absent. */
function jsonFen(v: unknown): Json {
  return typeof v === 'string' && /^-?\d+$/.test(v) ? fenJson(BigInt(v)) : typeof v === 'number' ? v : null;
}
import { csvLine, fenJson, fileJson, writeReport, type JobContext, type JobResult, type Json } from './ports.js';

export const clearingOpKind = 'clearing';
/** Parties whose posted clearing differs from a recomputation, listed in the result at most. */
export const clearingDifferencesMax = 100;
/** Ledger commands in flight at once: enough for the group commit to batch them, bounded memory. */
export const clearingInFlightMax = 64;

export type PartyType = 'operator' | 'merchant';

/** One party's postings of the day, clearing's own transfers excluded. */
export interface PartyDay {
  partyType: PartyType;
  partyId: string;
  /** Decimal string from the registry ("0.005000"); null when the party is not registered. */
  commissionRate: string | null;
  postings: number;
  creditFen: bigint;
  debitFen: bigint;
}

/** Earlier dates (at most this many days back) whose late postings a clearing settles. */
export const lateClearingDaysMax = 62;

/** What an already cleared date still holds for a party: postings that arrived after its clearing. */
export interface LatePartyDay extends PartyDay {
  lateDate: string;
  /** The date's own clearing command for the party exists (else the catch-up takes its key). */
  dayCommandPosted: boolean;
}

export interface ClearingSource {
  /** Parties with postings on the date, operators first, each group by id. */
  partyDays(businessDate: string): AsyncIterable<PartyDay>;
  /** Per earlier cleared date (or this one, on a rerun) and party, the part not cleared yet; read after the day's commands committed. */
  lateParties(businessDate: string): Promise<LatePartyDay[]>;
}

export interface PartyClearing {
  grossFen: bigint;
  commissionFen: bigint;
  netFen: bigint;
}

/** gross = credits − debits; commission = gross × rate (half-even to fen); net = gross − commission. */
export function clearParty(day: Pick<PartyDay, 'creditFen' | 'debitFen' | 'commissionRate'>): PartyClearing {
  const grossFen = day.creditFen - day.debitFen;
  const commissionFen = applyRate(grossFen, day.commissionRate ?? '0');
  return { grossFen, commissionFen, netFen: grossFen - commissionFen };
}

export function partyAccount(day: Pick<PartyDay, 'partyType' | 'partyId'>): AccountRef {
  return { kind: day.partyType === 'operator' ? 'receivable' : 'payable', ownerId: day.partyId };
}

export function clearingOpId(businessDate: string, day: Pick<PartyDay, 'partyType' | 'partyId'>): string {
  return `${businessDate}:${day.partyType}:${day.partyId}`;
}

/** The catch-up of a late date's postings, settled by the clearing of `clearedOn`. */
export function lateClearingOpId(late: Pick<LatePartyDay, 'lateDate' | 'partyType' | 'partyId' | 'dayCommandPosted'>, clearedOn: string): string {
  return late.dayCommandPosted ? `${clearingOpId(late.lateDate, late)}:late@${clearedOn}` : clearingOpId(late.lateDate, late);
}

const settlement: AccountRef = { kind: 'settlement', ownerId: '' };
const fees: AccountRef = { kind: 'fees', ownerId: '' };

/** The legs that empty the party's account of the day's gross: net to settlement, commission to fees (reversed for a negative day). */
export function clearingLegs(account: AccountRef, c: PartyClearing): { debit: AccountRef; credit: AccountRef; amountFen: bigint }[] {
  const legs: { debit: AccountRef; credit: AccountRef; amountFen: bigint }[] = [];
  const move = (to: AccountRef, amountFen: bigint) => {
    if (amountFen > 0n) legs.push({ debit: account, credit: to, amountFen });
    else if (amountFen < 0n) legs.push({ debit: to, credit: account, amountFen: -amountFen });
  };
  move(settlement, c.netFen);
  move(fees, c.commissionFen);
  return legs;
}

export const clearingCsvHeader = [
  'business_date', 'party_type', 'party_id', 'account', 'postings', 'credits_fen', 'debits_fen',
  'gross_fen', 'commission_rate', 'commission_fen', 'net_fen',
];

export function clearingFileName(businessDate: string): string {
  return `clearing-${businessDate}.csv`;
}

export async function runClearing(ctx: JobContext, deps: { source: ClearingSource; ledger: Ledger }): Promise<JobResult> {
  const date = ctx.businessDate;
  const totals = { parties: 0, postings: 0, creditFen: 0n, debitFen: 0n, grossFen: 0n, commissionFen: 0n, netFen: 0n };
  // What this run did in the ledger (a rerun finds everything already posted).
  const thisRun = { committed: 0, alreadyPosted: 0 };
  let movements = 0;
  const late = { parties: 0, grossFen: 0n, commissionFen: 0n, netFen: 0n, items: [] as Json[] };
  const differences: Json[] = [];
  const unregistered: string[] = [];
  // Commands are submitted without waiting for each commit, so that the ledger writer batches them.
  const inFlight: Promise<void>[] = [];
  const post = async (day: PartyDay, c: PartyClearing, legs: ReturnType<typeof clearingLegs>, late?: LatePartyDay): Promise<void> => {
    const account = partyAccount(day);
    const ofDate = late?.lateDate ?? date;
    const hash = requestHash({ clearing: ofDate, ...(late ? { clearedOn: date } : {}), account: `${account.kind}:${account.ownerId}`, net: c.netFen, commission: c.commissionFen });
    const outcome = await deps.ledger.submit({
      opKind: clearingOpKind,
      opId: late ? lateClearingOpId(late, date) : clearingOpId(date, day),
      requestHash: hash,
      // A catch-up is booked on the late date itself: that date's account then sums to zero.
      businessDate: ofDate,
      legs,
      detail: {
        businessDate: ofDate,
        ...(late ? { clearedOn: date, late: true } : {}),
        partyType: day.partyType,
        partyId: day.partyId,
        postings: day.postings,
        grossFen: c.grossFen.toString(),
        commissionRate: day.commissionRate ?? '0',
        commissionFen: c.commissionFen.toString(),
        netFen: c.netFen.toString(),
      },
    });
    if (outcome.status === 'committed') thisRun.committed++;
    else if (outcome.requestHash === hash) thisRun.alreadyPosted++;
    else {
      // Postings of this date arrived after it was cleared (late offline taps): the first
      // clearing stands; the difference is reported for a manual adjustment.
      if (differences.length < clearingDifferencesMax) {
        differences.push({ party: `${day.partyType}:${day.partyId}`, ...(late ? { lateDate: late.lateDate } : {}), postedNetFen: jsonFen(outcome.detail.netFen), recomputedNetFen: fenJson(c.netFen) });
      }
      ctx.log.warn({ job: ctx.name, businessDate: date, party: `${day.partyType}:${day.partyId}` }, 'clearing already posted with other amounts');
    }
  };
  await ctx.progress(5);
  let file;
  try {
    file = await writeReport(ctx.reports, clearingFileName(date), async (w) => {
      await w.line(csvLine(clearingCsvHeader));
      for await (const day of deps.source.partyDays(date)) {
        const account = partyAccount(day);
        const c = clearParty(day);
        if (day.commissionRate === null && unregistered.length < clearingDifferencesMax) unregistered.push(`${day.partyType}:${day.partyId}`);
        const legs = clearingLegs(account, c);
        if (legs.length > 0) {
          movements++;
          await ctx.checkpoint('clearing:party');
          inFlight.push(post(day, c, legs));
          if (inFlight.length >= clearingInFlightMax) await inFlight.shift();
        }
        await w.line(
          csvLine([date, day.partyType, day.partyId, account.kind, day.postings, day.creditFen, day.debitFen, c.grossFen, day.commissionRate ?? '0', c.commissionFen, c.netFen]),
        );
        totals.parties++;
        totals.postings += day.postings;
        totals.creditFen += day.creditFen;
        totals.debitFen += day.debitFen;
        totals.grossFen += c.grossFen;
        totals.commissionFen += c.commissionFen;
        totals.netFen += c.netFen;
      }
      while (inFlight.length > 0) await inFlight.shift();
      // Postings that reached earlier, already cleared dates (late offline taps and their
      // corrections) are settled now, one catch-up per date and party; read only after the day's
      // commands committed, so that none of them is counted twice.
      for (const l of await deps.source.lateParties(date)) {
        const account = partyAccount(l);
        const c = clearParty(l);
        const legs = clearingLegs(account, c);
        if (legs.length === 0) continue;
        movements++;
        inFlight.push(post(l, c, legs, l));
        await w.line(csvLine([l.lateDate, l.partyType, l.partyId, account.kind, l.postings, l.creditFen, l.debitFen, c.grossFen, l.commissionRate ?? '0', c.commissionFen, c.netFen]));
        late.parties++;
        late.grossFen += c.grossFen;
        late.commissionFen += c.commissionFen;
        late.netFen += c.netFen;
        if (late.items.length < clearingDifferencesMax) late.items.push({ lateDate: l.lateDate, party: `${l.partyType}:${l.partyId}`, grossFen: fenJson(c.grossFen), commissionFen: fenJson(c.commissionFen), netFen: fenJson(c.netFen) });
      }
      // The file's TOTAL is what it settles: the day and the catch-ups.
      await w.line(
        csvLine([date, 'TOTAL', '', '', totals.postings, totals.creditFen, totals.debitFen, totals.grossFen + late.grossFen, '', totals.commissionFen + late.commissionFen, totals.netFen + late.netFen]),
      );
      // The file is committed only once every ledger command has.
      while (inFlight.length > 0) await inFlight.shift();
    });
  } finally {
    // A failed run leaves no command unsettled behind it: a retry then sees each one committed or not.
    await Promise.allSettled(inFlight);
  }
  await ctx.progress(95);
  return {
    businessDate: date,
    parties: totals.parties,
    postings: totals.postings,
    grossFen: fenJson(totals.grossFen),
    commissionFen: fenJson(totals.commissionFen),
    netFen: fenJson(totals.netFen),
    ledgerCommands: movements,
    late: { parties: late.parties, grossFen: fenJson(late.grossFen), commissionFen: fenJson(late.commissionFen), netFen: fenJson(late.netFen), items: late.items },
    differences,
    thisRun,
    unregisteredParties: unregistered,
    file: fileJson(file),
  };
}

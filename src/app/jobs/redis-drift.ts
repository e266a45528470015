// Redis against PostgreSQL (DESIGN §8): every cached card's purse and medical balance (`pu`, `me`)
// is compared with its ledger accounts. A drifted card's cached state is dropped so that it
// reloads from the ledger on next use, except while it has a command in flight (its Redis effect
// is ahead of its commit by design). A card is dropped only when a second look finds the same
// Redis values and the same difference, so a command that slipped between the reads is not
// mistaken for drift.
import { maskCardNo } from '../../domain/card-number.js';
import { fenJson, fileJson, writeReport, type JobContext, type JobResult, type Json } from './ports.js';

/** Drifted cards named in the result and the report, at most. */
export const driftListedMax = 1000;

export interface CachedCard {
  cardNo: string;
  /** The raw hash fields; null when missing (a partial hash is drift too). */
  purse: string | null;
  medical: string | null;
}

export interface LedgerCard {
  purseFen: bigint;
  medicalFen: bigint;
}

export interface DriftSource {
  /** Pages of cached cards (SCAN: a card may come twice, counts are approximate). */
  cachedCards(): AsyncIterable<CachedCard[]>;
  /** Ledger balances; a card without accounts has zero. */
  ledger(cardNos: string[]): Promise<Map<string, LedgerCard>>;
  /** Cards among these with a command applied in Redis and not yet committed. */
  inFlight(cardNos: string[]): Promise<Set<string>>;
  reread(cardNos: string[]): Promise<Map<string, CachedCard>>;
  /** Drops the card's cached state (it reloads from the ledger). */
  forget(cardNo: string): Promise<void>;
}

function differs(cached: CachedCard, ledger: LedgerCard | undefined): boolean {
  const purse = ledger?.purseFen ?? 0n;
  const medical = ledger?.medicalFen ?? 0n;
  return cached.purse !== purse.toString() || cached.medical !== medical.toString();
}

/** A cached balance as a JSON integer of fen; null when the field is missing or not an integer (drift too). */
function cachedFen(raw: string | null): Json {
  return raw !== null && /^-?\d{1,16}$/.test(raw) ? fenJson(BigInt(raw)) : null;
}

export async function runRedisDrift(ctx: JobContext, deps: { source: DriftSource }): Promise<JobResult> {
  const { source } = deps;
  const counts = { scanned: 0, drifted: 0, repaired: 0, skippedInFlight: 0, skippedChanged: 0 };
  const driftedCards: Json[] = [];
  await ctx.progress(5);
  for await (const page of source.cachedCards()) {
    counts.scanned += page.length;
    const ledger = await source.ledger(page.map((c) => c.cardNo));
    const candidates = page.filter((c) => differs(c, ledger.get(c.cardNo)));
    if (candidates.length === 0) continue;
    const busy = await source.inFlight(candidates.map((c) => c.cardNo));
    const idle = candidates.filter((c) => !busy.has(c.cardNo));
    counts.skippedInFlight += candidates.length - idle.length;
    if (idle.length === 0) continue;
    // Second look, ledger first: a command committing in between shows up as a changed Redis value.
    const ledgerAgain = await source.ledger(idle.map((c) => c.cardNo));
    const cachedAgain = await source.reread(idle.map((c) => c.cardNo));
    const busyAgain = await source.inFlight(idle.map((c) => c.cardNo));
    for (const first of idle) {
      const again = cachedAgain.get(first.cardNo);
      if (!again || busyAgain.has(first.cardNo) || again.purse !== first.purse || again.medical !== first.medical) {
        counts.skippedChanged++;
        continue;
      }
      const truth = ledgerAgain.get(first.cardNo);
      if (!differs(again, truth)) continue;
      counts.drifted++;
      await source.forget(first.cardNo);
      counts.repaired++;
      if (driftedCards.length < driftListedMax) {
        driftedCards.push({
          card: maskCardNo(first.cardNo),
          redisPurseFen: cachedFen(first.purse),
          ledgerPurseFen: fenJson(truth?.purseFen ?? 0n),
          redisMedicalFen: cachedFen(first.medical),
          ledgerMedicalFen: fenJson(truth?.medicalFen ?? 0n),
        });
      }
      ctx.log.warn({ job: ctx.name, card: maskCardNo(first.cardNo) }, 'cached balance drifted from the ledger; cache dropped');
    }
    await ctx.checkpoint('redis-drift:page');
  }
  const result: JobResult = { businessDate: ctx.businessDate, ...counts, driftedCards };
  const file = await writeReport(ctx.reports, `redis-drift-${ctx.businessDate}.json`, (w) => w.line(JSON.stringify(result, null, 1)));
  return { ...result, file: fileJson(file) };
}

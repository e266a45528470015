// Statistical disclosure control of published tables (docs/statistics.md): cells under 5 distinct
// people are suppressed, and every published value carries a perturbation seeded by the cell's key
// (the sum of its people's permanent random record keys), so the same cell always gets the same
// noise (repeats do not average out) and a cell that gains or loses one person gets fresh noise
// (differencing two tables does not isolate the person). Pure: the keyed hash is passed in.

export const peopleMin = 5;
export const recordKeyModulus = 4294967296n; // record keys are uniform in [0, 2^32)
/** People-count noise in {-2..2} with these weights (out of 100). */
export const peopleNoiseWeights: readonly [number, number][] = [
  [-2, 10],
  [-1, 20],
  [0, 40],
  [1, 20],
  [2, 10],
];
/** Fen sums are published in whole yuan. */
export const fenRoundingBase = 100n;

/** One cell before disclosure control. Measures are counts or fen sums, with each's largest contribution by one person. */
export interface RawCell {
  dims: Record<string, string | number>;
  people: number;
  /** Sum of the people's record keys modulo 2^32. */
  cellKey: bigint;
  measures: Record<string, { total: bigint; maxPerPerson: bigint; fen?: boolean }>;
}

export interface PublishedCell {
  dims: Record<string, string | number>;
  people: number;
  values: Record<string, bigint>;
}

/** 32 uniform bits per (label, slot), from a keyed hash the caller supplies. */
export type UniformBits = (label: string, slot: number) => number;

function uniform(bits: UniformBits, label: string, slot: number): number {
  return bits(label, slot) / 4294967296;
}

function peopleNoise(u: number): number {
  let edge = 0;
  for (const [noise, weight] of peopleNoiseWeights) {
    edge += weight / 100;
    if (u < edge) return noise;
  }
  return 0;
}

/**
 * Publishes a table's cells: a cell is published only when its true and its perturbed people
 * count are both at least peopleMin; each measure gets noise up to ±its largest single-person
 * contribution (so one person's presence cannot be read from a difference), never below zero.
 */
export function publish(table: string, cells: readonly RawCell[], bits: UniformBits): PublishedCell[] {
  const out: PublishedCell[] = [];
  for (const cell of cells) {
    if (cell.people < peopleMin) continue;
    // The label ties the noise to the table, the cell's coordinates and its people (through the key).
    const label = `${table}|${JSON.stringify(cell.dims)}|${cell.cellKey % recordKeyModulus}`;
    const people = cell.people + peopleNoise(uniform(bits, label, 0));
    if (people < peopleMin) continue;
    const values: Record<string, bigint> = {};
    Object.entries(cell.measures)
      .sort(([a], [b]) => a.localeCompare(b))
      .forEach(([name, m], i) => {
        // Symmetric noise in [-max, +max], in whole units of the measure.
        const u = uniform(bits, label, i + 1) * 2 - 1;
        const spread = Number(m.maxPerPerson);
        let value = m.total + BigInt(Math.round(u * spread));
        if (value < 0n) value = 0n;
        if (m.fen) value = ((value + fenRoundingBase / 2n) / fenRoundingBase) * fenRoundingBase;
        values[name] = value;
      });
    out.push({ dims: cell.dims, people, values });
  }
  return out;
}

// Stock rules: which lots may serve an order, oldest fresh lot first, and which numbered units of a lot an order receives.

/** A lot is fresh at `at` while `at` is before its expiry; it must still be fresh when the order is delivered. */
export function isFreshAt(expiresAt: Date, at: Date): boolean {
  return at.getTime() < expiresAt.getTime();
}

export interface CandidateLot {
  id: number;
  producedAt: Date;
  expiresAt: Date;
  available: number;
}

/**
 * Takes `quantity` units from the oldest lots first (ties: sooner expiry, then lower id), so older stock sells
 * before it spoils. Lots not fresh at `deliverBy` are never used. Null when the fresh lots hold too few units.
 */
export function allocateOldestFirst<L extends CandidateLot>(lots: L[], quantity: number, deliverBy: Date): { lot: L; quantity: number }[] | null {
  const usable = lots
    .filter((lot) => lot.available > 0 && isFreshAt(lot.expiresAt, deliverBy))
    .sort((a, b) => a.producedAt.getTime() - b.producedAt.getTime() || a.expiresAt.getTime() - b.expiresAt.getTime() || a.id - b.id);
  const taken: { lot: L; quantity: number }[] = [];
  let missing = quantity;
  for (const lot of usable) {
    if (missing === 0) break;
    const take = Math.min(missing, lot.available);
    taken.push({ lot, quantity: take });
    missing -= take;
  }
  return missing === 0 ? taken : null;
}

/**
 * A set of unit numbers as sorted, disjoint, non-adjacent half-open ranges [start, end): the shape of
 * Postgres's int4multirange, whose text form is `{[0,3),[5,9)}`.
 */
export type UnitRanges = [start: number, end: number][];

export function parseUnitRanges(text: string): UnitRanges {
  const ranges: UnitRanges = [];
  for (const match of text.matchAll(/([[(])(-?\d+),(-?\d+)([\])])/g)) {
    // Postgres normalises integer ranges to [a,b), but read any bracket style correctly.
    const start = Number(match[2]) + (match[1] === '(' ? 1 : 0);
    const end = Number(match[3]) + (match[4] === ']' ? 1 : 0);
    if (end > start) ranges.push([start, end]);
  }
  return ranges;
}

export function formatUnitRanges(ranges: UnitRanges): string {
  return `{${ranges.map(([start, end]) => `[${start},${end})`).join(',')}}`;
}

export function countUnits(ranges: UnitRanges): number {
  return ranges.reduce((sum, [start, end]) => sum + end - start, 0);
}

/** The `count` lowest-numbered units of `free`, so a lot hands out its units in order. */
export function lowestUnits(free: UnitRanges, count: number): UnitRanges {
  const taken: UnitRanges = [];
  let missing = count;
  for (const [start, end] of free) {
    if (missing === 0) break;
    const take = Math.min(missing, end - start);
    taken.push([start, start + take]);
    missing -= take;
  }
  if (missing > 0) throw new Error(`Only ${count - missing} free units, ${count} asked for`);
  return taken;
}

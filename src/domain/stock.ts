// Stock rules: which lots may serve an order, and in which order: oldest fresh lot first.

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
export function allocateOldestFirst<L extends CandidateLot>(
  lots: L[],
  quantity: number,
  deliverBy: Date,
): { lot: L; quantity: number }[] | null {
  const usable = lots
    .filter((lot) => lot.available > 0 && isFreshAt(lot.expiresAt, deliverBy))
    .sort(
      (a, b) =>
        a.producedAt.getTime() - b.producedAt.getTime() || a.expiresAt.getTime() - b.expiresAt.getTime() || a.id - b.id,
    );
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

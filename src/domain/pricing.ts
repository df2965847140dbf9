// The price a unit sells at right now: the product's price, less its end-of-day discount once the unit's lot is in its discount window.

/** How long before a lot stops selling its end-of-day discount starts (the bakery's last half hour). */
export const END_OF_DAY_DISCOUNT_WINDOW_MS = 30 * 60_000;

export interface ProductPrice {
  priceCents: number;
  /** 0..100 */
  eodDiscountPercent: number;
}

/**
 * The discounted price in integer cents, rounded half up: 5 cents at 50% sells for 3 cents.
 * Rounding the price (not the discount) means a discount never takes more than the percent promises.
 */
export function discountedPriceCents(product: ProductPrice): number {
  return Math.floor((product.priceCents * (100 - product.eodDiscountPercent) + 50) / 100);
}

/** Whether a lot sells at the discount at `at`; a lot without a discount start never does. */
export function isDiscountedAt(discountFrom: Date | null, at: Date): boolean {
  return discountFrom !== null && discountFrom.getTime() <= at.getTime();
}

/** The price in effect for one unit of a lot at `at`. */
export function priceInEffectCents(product: ProductPrice, discountFrom: Date | null, at: Date): number {
  return isDiscountedAt(discountFrom, at) ? discountedPriceCents(product) : product.priceCents;
}

/**
 * When a lot's end-of-day discount starts: half an hour before it stops selling, which is the earlier of
 * its expiry and its location's first closing after it was produced. Never before it was produced.
 * `closingTimes` are the location's closing instants around the production time (computed in its time zone).
 */
export function endOfDayDiscountFrom(lot: { producedAt: Date; expiresAt: Date }, closingTimes: Date[]): Date {
  const closing = closingTimes
    .map((c) => c.getTime())
    .filter((c) => c > lot.producedAt.getTime())
    .sort((a, b) => a - b)[0];
  const stopsSelling = Math.min(lot.expiresAt.getTime(), closing ?? Number.POSITIVE_INFINITY);
  return new Date(Math.max(lot.producedAt.getTime(), stopsSelling - END_OF_DAY_DISCOUNT_WINDOW_MS));
}

// The pure stock rules: delivery distance, the price in effect and its discount window, and oldest-first allocation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliversTo, haversineMeters } from '../../src/domain/geo.js';
import { discountedPriceCents, endOfDayDiscountFrom, priceInEffectCents } from '../../src/domain/pricing.js';
import { allocateOldestFirst, isFreshAt } from '../../src/domain/stock.js';

const at = (iso: string) => new Date(iso);

describe('geo', () => {
  it('measures great-circle distances', () => {
    // London to Paris is about 343.5 km; one degree of latitude about 111.2 km.
    expect(haversineMeters({ lat: 51.5074, lng: -0.1278 }, { lat: 48.8566, lng: 2.3522 }) / 1000).toBeCloseTo(343.5, 0);
    expect(haversineMeters({ lat: 0, lng: 0 }, { lat: 1, lng: 0 })).toBeCloseTo(111_195, -1);
    // Across the antimeridian the short way round.
    expect(haversineMeters({ lat: 0, lng: 179.99 }, { lat: 0, lng: -179.99 })).toBeCloseTo(2_224, -1);
  });

  it('delivers up to and including the radius', () => {
    const location = { lat: 0, lng: 0, deliveryRadiusM: 1000 };
    const edge = haversineMeters(location, { lat: 0.00899, lng: 0 });
    expect(deliversTo({ ...location, deliveryRadiusM: edge }, { lat: 0.00899, lng: 0 })).toBe(true);
    expect(deliversTo(location, { lat: 0.0091, lng: 0 })).toBe(false);
  });
});

describe('pricing', () => {
  it('discounts in integer cents, rounding the price half up', () => {
    expect(discountedPriceCents({ priceCents: 325, eodDiscountPercent: 40 })).toBe(195);
    expect(discountedPriceCents({ priceCents: 5, eodDiscountPercent: 50 })).toBe(3);
    expect(discountedPriceCents({ priceCents: 999, eodDiscountPercent: 0 })).toBe(999);
    expect(discountedPriceCents({ priceCents: 999, eodDiscountPercent: 100 })).toBe(0);
  });

  it('never charges more than the list price nor less than the exact discounted amount minus a cent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 100 }),
        (priceCents, eodDiscountPercent) => {
          const price = discountedPriceCents({ priceCents, eodDiscountPercent });
          const exact = (priceCents * (100 - eodDiscountPercent)) / 100;
          return Number.isInteger(price) && price <= priceCents && Math.abs(price - exact) <= 0.5;
        },
      ),
    );
  });

  it('applies the discount from the start of the window on', () => {
    const product = { priceCents: 400, eodDiscountPercent: 25 };
    const from = at('2030-01-01T17:30:00Z');
    expect(priceInEffectCents(product, from, at('2030-01-01T17:29:59Z'))).toBe(400);
    expect(priceInEffectCents(product, from, at('2030-01-01T17:30:00Z'))).toBe(300);
    expect(priceInEffectCents(product, null, at('2099-01-01T00:00:00Z'))).toBe(400);
  });

  it('opens the window half an hour before the lot stops selling: expiry or the first closing after production', () => {
    const closings = [at('2030-01-01T18:00:00Z'), at('2030-01-02T18:00:00Z')];
    // Expires before closing: the window follows the expiry.
    expect(
      endOfDayDiscountFrom({ producedAt: at('2030-01-01T08:00:00Z'), expiresAt: at('2030-01-01T12:00:00Z') }, closings),
    ).toEqual(at('2030-01-01T11:30:00Z'));
    // Outlives the day: the window opens before closing.
    expect(
      endOfDayDiscountFrom({ producedAt: at('2030-01-01T08:00:00Z'), expiresAt: at('2030-01-03T08:00:00Z') }, closings),
    ).toEqual(at('2030-01-01T17:30:00Z'));
    // Produced after today's closing: tomorrow's closing counts.
    expect(
      endOfDayDiscountFrom({ producedAt: at('2030-01-01T19:00:00Z'), expiresAt: at('2030-01-05T00:00:00Z') }, closings),
    ).toEqual(at('2030-01-02T17:30:00Z'));
    // Produced ten minutes before closing: discounted from the start, never before it existed.
    expect(
      endOfDayDiscountFrom({ producedAt: at('2030-01-01T17:50:00Z'), expiresAt: at('2030-01-03T00:00:00Z') }, closings),
    ).toEqual(at('2030-01-01T17:50:00Z'));
  });
});

describe('allocation', () => {
  const lot = (id: number, producedAt: string, expiresAt: string, available: number) => ({
    id,
    producedAt: at(producedAt),
    expiresAt: at(expiresAt),
    available,
  });

  it('takes the oldest fresh lots first and skips lots that expire before delivery', () => {
    const lots = [
      lot(1, '2030-01-01T09:00:00Z', '2030-01-01T20:00:00Z', 5),
      lot(2, '2030-01-01T07:00:00Z', '2030-01-01T12:10:00Z', 5), // oldest, but stale by delivery
      lot(3, '2030-01-01T08:00:00Z', '2030-01-01T20:00:00Z', 2),
    ];
    const taken = allocateOldestFirst(lots, 4, at('2030-01-01T12:30:00Z'));
    expect(taken?.map((t) => [t.lot.id, t.quantity])).toEqual([
      [3, 2],
      [1, 2],
    ]);
    expect(allocateOldestFirst(lots, 8, at('2030-01-01T12:30:00Z'))).toBeNull();
    expect(allocateOldestFirst(lots, 12, at('2030-01-01T12:00:00Z'))?.map((t) => t.lot.id)).toEqual([2, 3, 1]);
  });

  it('treats a lot expiring exactly at delivery as stale', () => {
    expect(isFreshAt(at('2030-01-01T12:00:00Z'), at('2030-01-01T12:00:00Z'))).toBe(false);
    expect(
      allocateOldestFirst([lot(1, '2030-01-01T09:00:00Z', '2030-01-01T12:00:00Z', 3)], 1, at('2030-01-01T12:00:00Z')),
    ).toBeNull();
  });

  it('takes exactly what was asked, or nothing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ available: fc.integer({ min: 0, max: 20 }), age: fc.integer({ min: 0, max: 100 }) }), {
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 100 }),
        (specs, quantity) => {
          const lots = specs.map((s, i) => ({
            id: i + 1,
            producedAt: new Date(1e12 - s.age * 60_000),
            expiresAt: new Date(2e12),
            available: s.available,
          }));
          const supply = specs.reduce((sum, s) => sum + s.available, 0);
          const taken = allocateOldestFirst(lots, quantity, new Date(1.5e12));
          if (supply < quantity) return taken === null;
          return (
            taken !== null &&
            taken.reduce((sum, t) => sum + t.quantity, 0) === quantity &&
            taken.every((t) => t.quantity > 0 && t.quantity <= t.lot.available)
          );
        },
      ),
    );
  });
});

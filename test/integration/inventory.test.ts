// The stock activities on real Postgres: oldest fresh lot first, all-or-nothing, idempotent per order, and no unit sold twice under concurrency.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createInventoryActivities, STOCK_FAILURES, type ReserveStockResult } from '../../activities/inventory.js';
import { checkInventoryInvariants } from '../../src/db/invariants.js';
import { createStockLotRepository } from '../../src/db/repositories/stock-lots.js';
import { createDb } from '../../src/db/knex.js';
import { haversineMeters } from '../../src/domain/geo.js';
import { allocateOldestFirst } from '../../src/domain/stock.js';
import { createLocation, createProduct } from '../support/stack.js';
import '../support/context.js';

let db: Knex;
let stock: ReturnType<typeof createInventoryActivities>;

const HOUR = 3_600_000;
const inHours = (h: number) => new Date(Date.now() + h * HOUR);

beforeAll(async () => {
  // Enough connections that the races below really run side by side.
  db = createDb(inject('databaseUrl'), { max: 24 });
  stock = createInventoryActivities(db);
});

afterAll(async () => {
  await db?.destroy();
});

async function addLot(fields: {
  locationId: string;
  productId: string;
  quantity: number;
  producedAt?: Date;
  expiresAt?: Date;
  discountFrom?: Date | null;
}): Promise<number> {
  const [row] = await db('stock_lots')
    .insert({
      location_id: fields.locationId,
      product_id: fields.productId,
      quantity: fields.quantity,
      available: fields.quantity,
      free_units: `{[0,${fields.quantity})}`,
      produced_at: fields.producedAt ?? inHours(-1),
      expires_at: fields.expiresAt ?? inHours(12),
      discount_from: fields.discountFrom ?? null,
    })
    .returning<{ id: number }[]>('id');
  return row!.id;
}

async function lot(id: number) {
  return db('stock_lots').where({ id }).first<{
    available: number;
    reserved: number;
    sold: number;
    discarded: number;
    free_units: string;
    discarded_units: string;
  }>('available', 'reserved', 'sold', 'discarded', db.raw('free_units::text AS free_units'), db.raw('discarded_units::text AS discarded_units'));
}

const units = (orderId: string) =>
  db('stock_allocations')
    .where({ order_id: orderId })
    .orderBy('id')
    .select<{ lot_id: number; units: string; state: string }[]>('lot_id', db.raw('units::text AS units'), 'state');

async function place(
  locationId: string,
  lines: { productId: string; quantity: number }[],
  deliverBy = inHours(1),
): Promise<{ orderId: string; result: ReserveStockResult }> {
  const orderId = randomUUID();
  return {
    orderId,
    result: await stock.reserveStock({ orderId, locationId, lines, deliverBy: deliverBy.toISOString() }),
  };
}

/** Waits until `promise` settles or `waiters` lock requests wait in the database, whichever comes first. */
async function settledOrWaiting(promise: Promise<unknown>, waiters: number): Promise<void> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 250 && !settled; i++) {
    const { rows } = await db.raw<{ rows: { n: number }[] }>(
      'SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted',
    );
    if (rows[0]!.n >= waiters) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function expectNoViolations() {
  expect(await checkInventoryInvariants(db)).toEqual([]);
}

describe('reserveStock', () => {
  it('takes the oldest fresh lot first, hands out concrete units, and prices each unit by its lot', async () => {
    const locationId = await createLocation(db);
    const bread = await createProduct(db, { name: 'Oldest-first loaf', price_cents: 400, eod_discount_percent: 25 });
    const newer = await addLot({ locationId, productId: bread, quantity: 5, producedAt: inHours(-1) });
    const older = await addLot({
      locationId,
      productId: bread,
      quantity: 2,
      producedAt: inHours(-5),
      discountFrom: inHours(-0.5),
    });

    const { orderId, result } = await place(locationId, [{ productId: bread, quantity: 3 }]);
    // Two discounted units from the older lot at 300, one full-price unit from the newer lot.
    expect(result).toEqual({
      status: 'reserved',
      lines: [{ productId: bread, quantity: 3, amountCents: 2 * 300 + 400 }],
    });
    expect(await units(orderId)).toEqual([
      { lot_id: older, units: '{[0,2)}', state: 'reserved' },
      { lot_id: newer, units: '{[0,1)}', state: 'reserved' },
    ]);
    expect(await lot(older)).toMatchObject({ available: 0, reserved: 2, free_units: '{}' });
    expect(await lot(newer)).toMatchObject({ available: 4, reserved: 1, free_units: '{[1,5)}' });
    await expectNoViolations();
  });

  it('takes exactly the lots and units the oldest-first rule of src/domain/stock.ts picks, at the price in effect (property)', async () => {
    const locationId = await createLocation(db);
    const at = Date.now();
    const lotArb = fc.record({
      // Hours before now; several lots share a production time, so expiry and then lot id break the ties.
      producedH: fc.integer({ min: 1, max: 6 }),
      // Hours after now: some expire before the delivery in 2 hours, a few share an expiry.
      expiresH: fc.integer({ min: 1, max: 5 }),
      available: fc.integer({ min: 1, max: 6 }),
      discounted: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(lotArb, { minLength: 0, maxLength: 8 }),
        fc.integer({ min: 1, max: 25 }),
        async (specs, quantity) => {
          const productId = await createProduct(db, {
            name: `Rule loaf ${randomUUID()}`,
            price_cents: 450,
            eod_discount_percent: 30,
          });
          const lots = [];
          for (const spec of specs) {
            const lot = {
              producedAt: new Date(at - spec.producedH * HOUR),
              expiresAt: new Date(at + spec.expiresH * HOUR),
              available: spec.available,
            };
            const id = await addLot({
              locationId,
              productId,
              quantity: spec.available,
              ...lot,
              discountFrom: spec.discounted ? new Date(at - HOUR) : null,
            });
            lots.push({ id, ...lot, discounted: spec.discounted });
          }
          const deliverBy = new Date(at + 2 * HOUR);
          const expected = allocateOldestFirst(lots, quantity, deliverBy);
          const { orderId, result } = await place(locationId, [{ productId, quantity }], deliverBy);
          if (expected === null) {
            expect(result).toEqual({ status: 'out_of_stock', productIds: [productId] });
            expect(await units(orderId)).toEqual([]);
            return;
          }
          const amount = expected.reduce((sum, t) => sum + t.quantity * (t.lot.discounted ? 315 : 450), 0);
          expect(result).toEqual({ status: 'reserved', lines: [{ productId, quantity, amountCents: amount }] });
          expect(await units(orderId)).toEqual(
            expected.map((t) => ({ lot_id: t.lot.id, units: `{[0,${t.quantity})}`, state: 'reserved' })),
          );
        },
      ),
      { numRuns: 40 },
    );
    await expectNoViolations();
  });

  it('announces a product an order sold out at the location, and only then', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Last bun' });
    await addLot({ locationId, productId: bun, quantity: 3 });
    const soldOut = () =>
      db('events')
        .where({ stream: `location:${locationId}`, type: 'stock.sold_out' })
        .select<{ payload: { productId: string } }[]>('payload');
    expect((await place(locationId, [{ productId: bun, quantity: 2 }])).result.status).toBe('reserved');
    expect(await soldOut()).toEqual([]);
    expect((await place(locationId, [{ productId: bun, quantity: 1 }])).result.status).toBe('reserved');
    expect(await soldOut()).toEqual([{ payload: { productId: bun } }]);
    expect((await place(locationId, [{ productId: bun, quantity: 1 }])).result.status).toBe('out_of_stock');
    expect(await soldOut()).toHaveLength(1);
  });

  it('never takes a lot that expires before delivery, nor an expired one', async () => {
    const locationId = await createLocation(db);
    const tart = await createProduct(db, { name: 'Short-lived tart' });
    await addLot({ locationId, productId: tart, quantity: 4, expiresAt: inHours(0.5) });
    await addLot({ locationId, productId: tart, quantity: 4, producedAt: inHours(-3), expiresAt: inHours(-0.1) });

    expect((await place(locationId, [{ productId: tart, quantity: 1 }], inHours(1))).result).toEqual({
      status: 'out_of_stock',
      productIds: [tart],
    });
    expect((await place(locationId, [{ productId: tart, quantity: 4 }], inHours(0.25))).result.status).toBe('reserved');
    // A delivery time in the past still never takes an expired lot.
    expect((await place(locationId, [{ productId: tart, quantity: 1 }], inHours(-1))).result.status).toBe(
      'out_of_stock',
    );
  });

  it('reserves all lines or none', async () => {
    const locationId = await createLocation(db);
    const [a, b] = [await createProduct(db, { name: 'Basket A' }), await createProduct(db, { name: 'Basket B' })];
    const lotA = await addLot({ locationId, productId: a, quantity: 5 });
    await addLot({ locationId, productId: b, quantity: 1 });

    const { orderId, result } = await place(locationId, [
      { productId: a, quantity: 2 },
      { productId: b, quantity: 2 },
    ]);
    expect(result).toEqual({ status: 'out_of_stock', productIds: [b] });
    expect(await lot(lotA)).toMatchObject({ available: 5, reserved: 0 });
    expect(await units(orderId)).toEqual([]);
    expect((await place(locationId, [{ productId: randomUUID(), quantity: 1 }])).result.status).toBe('out_of_stock');
    expect((await place(randomUUID(), [{ productId: a, quantity: 1 }])).result.status).toBe('out_of_stock');
  });

  it("reserves inside a caller's transaction too, and holds nothing once it rolls back", async () => {
    const locationId = await createLocation(db);
    const product = await createProduct(db, { name: 'Transactional roll' });
    const lotId = await addLot({ locationId, productId: product, quantity: 3 });
    const orderId = randomUUID();
    const now = new Date();
    const trx = await db.transaction();
    const taken = await createStockLotRepository(trx).reserve({
      orderId,
      locationId,
      deliverBy: inHours(1),
      freshAt: inHours(1),
      now,
      lines: [{ productId: product, quantity: 2 }],
      recordShort: false,
    });
    expect(taken).toMatchObject({ claimed: true, short: null, lines: [{ productId: product, quantity: 2, left: 1 }] });
    expect(await trx('stock_lots').where({ id: lotId }).first('available')).toEqual({ available: 1 });
    await trx.rollback();
    expect(await lot(lotId)).toMatchObject({ available: 3, reserved: 0 });
    expect(await units(orderId)).toEqual([]);
  });

  it('answers an order it cannot fill without writing anything, and one already claimed from its claim', async () => {
    const locationId = await createLocation(db);
    const product = await createProduct(db, { name: 'Last loaf' });
    await addLot({ locationId, productId: product, quantity: 1 });
    const deliverBy = inHours(1);
    // The statement the repository sends, in a transaction of its own so the test can ask whether it wrote.
    const reserve = (orderId: string, quantity: number) =>
      db.transaction(async (trx) => {
        const { rows } = await trx.raw<{ rows: { claimed: boolean; short: string[] | null }[] }>(
          'SELECT claimed, short FROM stock_reserve(?, ?, ?, ?, now(), ?::uuid[], ?::integer[], false)',
          [orderId, locationId, deliverBy, deliverBy, [product], [quantity]],
        );
        const { rows: xid } = await trx.raw<{ rows: { wrote: boolean }[] }>(
          'SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS wrote',
        );
        return { ...rows[0]!, wrote: xid[0]!.wrote };
      });

    // Short: no claim, no lock, no row; the transaction never even took an id.
    const short = randomUUID();
    expect(await reserve(short, 2)).toEqual({ claimed: true, short: [product], wrote: false });
    expect(await db('stock_reservations').where({ order_id: short }).first()).toBeUndefined();
    // Enough: claimed and taken, as before.
    const filled = randomUUID();
    expect(await reserve(filled, 1)).toEqual({ claimed: true, short: null, wrote: true });
    // A retry of that order finds its claim first, though the lot is empty now: it is no new order to refuse.
    expect(await reserve(filled, 1)).toMatchObject({ claimed: false });
    expect(
      (
        await stock.reserveStock({
          orderId: filled,
          locationId,
          lines: [{ productId: product, quantity: 1 }],
          deliverBy: deliverBy.toISOString(),
        })
      ).status,
    ).toBe('reserved');
    await expectNoViolations();
  });

  it('answers a retry of the same order with the same reservation, even when the retries race', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Retried bun', price_cents: 250 });
    const lotId = await addLot({ locationId, productId: bun, quantity: 10 });
    const input = {
      orderId: randomUUID(),
      locationId,
      lines: [{ productId: bun, quantity: 3 }],
      deliverBy: inHours(1).toISOString(),
    };

    const results = await Promise.all(Array.from({ length: 6 }, () => stock.reserveStock(input)));
    for (const result of results)
      expect(result).toEqual({ status: 'reserved', lines: [{ productId: bun, quantity: 3, amountCents: 750 }] });
    expect(await stock.reserveStock(input)).toEqual(results[0]);
    expect(await lot(lotId)).toMatchObject({ available: 7, reserved: 3 });

    // A retry after the first attempt took the last units still gets its reservation, not "out of stock".
    const lastUnits = await addLot({
      locationId,
      productId: await createProduct(db, { name: 'Last buns', price_cents: 100 }),
      quantity: 2,
    });
    const lastInput = {
      orderId: randomUUID(),
      locationId,
      lines: [
        { productId: (await db('stock_lots').where({ id: lastUnits }).first()).product_id as string, quantity: 2 },
      ],
      deliverBy: inHours(1).toISOString(),
    };
    const first = await stock.reserveStock(lastInput);
    expect(first.status).toBe('reserved');
    expect(await stock.reserveStock(lastInput)).toEqual(first);

    // The same order id asking for something else is a bug in the caller, not a second order.
    await expect(stock.reserveStock({ ...input, lines: [{ productId: bun, quantity: 4 }] })).rejects.toMatchObject({
      type: STOCK_FAILURES.mismatch,
      nonRetryable: true,
    });
    expect(await lot(lotId)).toMatchObject({ available: 7, reserved: 3 });
  });

  it('refuses malformed requests without touching anything', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Malformed bun' });
    const lotId = await addLot({ locationId, productId: bun, quantity: 10 });
    const base = { locationId, deliverBy: inHours(1).toISOString() };
    const bad = [
      {
        ...base,
        lines: [
          { productId: bun, quantity: 1 },
          { productId: bun, quantity: 2 },
        ],
      },
      { ...base, lines: [{ productId: bun, quantity: 0 }] },
      { ...base, lines: [{ productId: bun, quantity: 1.5 }] },
      { ...base, lines: [{ productId: bun, quantity: -2 }] },
      { ...base, lines: [{ productId: bun, quantity: 1e12 }] },
      { ...base, lines: [] },
      { ...base, lines: [{ productId: bun, quantity: 1 }], deliverBy: 'tomorrow' },
    ];
    for (const input of bad) {
      const orderId = randomUUID();
      await expect(stock.reserveStock({ ...input, orderId })).rejects.toMatchObject({
        type: STOCK_FAILURES.invalidInput,
        nonRetryable: true,
      });
      expect(await db('stock_reservations').where({ order_id: orderId }).first()).toBeUndefined();
    }
    expect(await lot(lotId)).toMatchObject({ available: 10, reserved: 0 });
  });
});

describe('releaseStock and commitStock', () => {
  it('releases reserved units back to their lot, once', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Released bun' });
    const lotId = await addLot({ locationId, productId: bun, quantity: 5 });
    const { orderId } = await place(locationId, [{ productId: bun, quantity: 2 }]);
    const other = await place(locationId, [{ productId: bun, quantity: 1 }]);

    await stock.releaseStock(orderId);
    await stock.releaseStock(orderId);
    expect(await lot(lotId)).toMatchObject({ available: 4, reserved: 1, free_units: '{[0,2),[3,5)}' });
    expect((await units(orderId)).map((u) => u.state)).toEqual(['released']);
    // The freed units are the next to go.
    const again = await place(locationId, [{ productId: bun, quantity: 2 }]);
    expect(await units(again.orderId)).toEqual([{ lot_id: lotId, units: '{[0,2)}', state: 'reserved' }]);
    expect(other.result.status).toBe('reserved');
    await expectNoViolations();
  });

  it('commits reserved units as sold, once, and a later release leaves them sold', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Sold bun' });
    const lotId = await addLot({ locationId, productId: bun, quantity: 5 });
    const { orderId } = await place(locationId, [{ productId: bun, quantity: 2 }]);

    await stock.commitStock(orderId);
    await stock.commitStock(orderId);
    await stock.releaseStock(orderId);
    expect(await lot(lotId)).toMatchObject({ available: 3, reserved: 0, sold: 2 });
    expect((await units(orderId)).map((u) => u.state)).toEqual(['sold']);
    await expectNoViolations();
  });

  it('refuses to commit stock an order does not hold', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Uncommittable bun' });
    await addLot({ locationId, productId: bun, quantity: 1 });
    await expect(stock.commitStock(randomUUID())).rejects.toMatchObject({ type: STOCK_FAILURES.nothingToCommit });
    const { orderId } = await place(locationId, [{ productId: bun, quantity: 1 }]);
    await stock.releaseStock(orderId);
    await expect(stock.commitStock(orderId)).rejects.toMatchObject({ type: STOCK_FAILURES.nothingToCommit });
    const refused = await place(locationId, [{ productId: bun, quantity: 2 }]);
    await expect(stock.commitStock(refused.orderId)).rejects.toMatchObject({ type: STOCK_FAILURES.nothingToCommit });
  });

  it('lets a release that arrives first stop a late reservation of the same order', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Late bun' });
    const lotId = await addLot({ locationId, productId: bun, quantity: 3 });
    const orderId = randomUUID();
    await stock.releaseStock(orderId);
    await expect(
      stock.reserveStock({
        orderId,
        locationId,
        lines: [{ productId: bun, quantity: 1 }],
        deliverBy: inHours(1).toISOString(),
      }),
    ).rejects.toMatchObject({ type: STOCK_FAILURES.released });
    expect(await lot(lotId)).toMatchObject({ available: 3, reserved: 0 });
  });

  it('sends units released after their lot expired to the discard pile', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Expired-while-held bun' });
    const lotId = await addLot({ locationId, productId: bun, quantity: 4, expiresAt: inHours(1) });
    const { orderId } = await place(locationId, [{ productId: bun, quantity: 3 }], inHours(0.5));
    await db('stock_lots')
      .where({ id: lotId })
      .update({ produced_at: inHours(-2), expires_at: inHours(-0.01) });

    expect(await stock.discardExpiredLot(lotId)).toEqual({ lotId, discardedUnits: 1 });
    expect(await lot(lotId)).toMatchObject({ available: 0, reserved: 3, discarded: 1, discarded_units: '{[3,4)}' });
    await stock.releaseStock(orderId);
    expect(await lot(lotId)).toMatchObject({ available: 0, reserved: 0, discarded: 4, discarded_units: '{[0,4)}' });
    expect(await stock.discardExpiredLot(lotId)).toEqual({ lotId, discardedUnits: 0 });
    await expectNoViolations();
  });
});

describe('lot timers', () => {
  it('discounts a lot now, once, and leaves an already discounted lot alone', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Discounted bun' });
    const lotId = await addLot({ locationId, productId: bun, quantity: 3, discountFrom: inHours(3) });
    const first = await stock.discountLot(lotId);
    expect(Date.parse(first.discountFrom!)).toBeLessThanOrEqual(Date.now());
    expect(await stock.discountLot(lotId)).toEqual(first);
    expect(await stock.discountLot(987_654_321)).toEqual({ lotId: 987_654_321, discountFrom: null });
  });

  it('discards only expired lots, and the sweep finds them all', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Swept bun' });
    const fresh = await addLot({ locationId, productId: bun, quantity: 3 });
    const stale = await addLot({
      locationId,
      productId: bun,
      quantity: 3,
      producedAt: inHours(-3),
      expiresAt: inHours(-1),
    });
    expect(await stock.discardExpiredLot(fresh)).toEqual({ lotId: fresh, discardedUnits: 0 });
    const swept = await stock.discardExpiredStock();
    expect(swept.lots).toBeGreaterThanOrEqual(1);
    expect(await lot(stale)).toMatchObject({ available: 0, discarded: 3, discarded_units: '{[0,3)}' });
    expect(await lot(fresh)).toMatchObject({ available: 3, discarded: 0 });
  });
});

describe('concurrency', () => {
  it('lets exactly as many buyers win as there are units, across several lots', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Contended bun' });
    for (const quantity of [7, 5, 8]) await addLot({ locationId, productId: bun, quantity });
    const results = await Promise.all(
      Array.from({ length: 60 }, () => place(locationId, [{ productId: bun, quantity: 1 }])),
    );
    expect(results.filter((r) => r.result.status === 'reserved')).toHaveLength(20);
    expect(results.filter((r) => r.result.status === 'out_of_stock')).toHaveLength(40);
    await expectNoViolations();
  });

  it('never deadlocks on baskets that name the same products in opposite orders, and never says "out of stock" while enough is free', async () => {
    const locationId = await createLocation(db);
    const products = [
      await createProduct(db, { name: 'Cross P1' }),
      await createProduct(db, { name: 'Cross P2' }),
      await createProduct(db, { name: 'Cross P3' }),
    ];
    for (const productId of products) {
      await addLot({ locationId, productId, quantity: 20, producedAt: inHours(-2) });
      await addLot({ locationId, productId, quantity: 20 });
    }
    // 40 baskets of all three products, each in its own rotation and direction: demand (40 per product) equals supply.
    const baskets = Array.from({ length: 40 }, (_, i) => {
      const rotated = [0, 1, 2].map((k) => ({ productId: products[(i + k) % 3]!, quantity: 1 }));
      return i % 2 === 0 ? rotated : rotated.reverse();
    });
    const results = await Promise.all(baskets.map((lines) => place(locationId, lines)));
    expect(results.map((r) => r.result.status)).toEqual(baskets.map(() => 'reserved'));
    await expectNoViolations();
  });

  it('lets a buyer that finds the units gone once it holds the lots leave without writing anything', async () => {
    const locationId = await createLocation(db);
    const product = await createProduct(db, { name: 'Contested bun' });
    const lotId = await addLot({ locationId, productId: product, quantity: 1 });
    const deliverBy = inHours(1);
    const call = (trx: Knex.Transaction, orderId: string) =>
      Promise.resolve(
        trx.raw<{ rows: { claimed: boolean; short: string[] | null }[] }>(
          'SELECT claimed, short FROM stock_reserve(?, ?, ?, ?, now(), ?::uuid[], ?::integer[], false)',
          [orderId, locationId, deliverBy, deliverBy, [product], [1]],
        ),
      );
    // Rows B's transaction has written to the claims so far (the view also counts its connection's recent past).
    const claimsWritten = async (trx: Knex.Transaction) => {
      const { rows } = await trx.raw<{ rows: { written: number }[] }>(
        "SELECT (n_tup_ins + n_tup_upd + n_tup_del)::int AS written FROM pg_stat_xact_user_tables WHERE relname = 'stock_reservations'",
      );
      return rows[0]!.written;
    };
    // A takes the last unit and holds the lot, not yet committed; B still sees the unit, so it queues for the lot.
    const a = await db.transaction();
    const b = await db.transaction();
    const [orderA, orderB] = [randomUUID(), randomUUID()];
    expect((await call(a, orderA)).rows[0]).toEqual({ claimed: true, short: null });
    const before = await claimsWritten(b);
    const bReserve = call(b, orderB);
    await settledOrWaiting(bReserve, 1);
    await a.commit();
    // B finds the lot empty once it holds it: short, and it never wrote a claim (nor deleted one).
    expect((await bReserve).rows[0]).toEqual({ claimed: true, short: [product] });
    const written = (await claimsWritten(b)) - before;
    await b.commit();
    expect(written).toBe(0);
    expect(await db('stock_reservations').where({ order_id: orderB }).first()).toBeUndefined();
    expect(await lot(lotId)).toMatchObject({ available: 0, reserved: 1 });
    await expectNoViolations();
  });

  it('takes only from lots it locked: a lot that a release refills while a buyer waits goes to the next buyer', async () => {
    const locationId = await createLocation(db);
    const [p, q] = [await createProduct(db, { name: 'Refilled P' }), await createProduct(db, { name: 'Held Q' })];
    // P's first lot is sold out to A; its second, newer in id but as old, still has a unit.
    const lotP = await addLot({ locationId, productId: p, quantity: 2 });
    const a = await place(locationId, [{ productId: p, quantity: 2 }]);
    expect(a.result.status).toBe('reserved');
    const lotQ = await addLot({ locationId, productId: q, quantity: 5 });
    const lotP2 = await addLot({ locationId, productId: p, quantity: 1 });

    // B wants P and Q, and waits for Q's lot, which another transaction holds.
    const holdQ = await db.transaction();
    await holdQ.raw('SELECT id FROM stock_lots WHERE id = ? FOR UPDATE', [lotQ]);
    const b = place(locationId, [
      { productId: p, quantity: 1 },
      { productId: q, quantity: 1 },
    ]);
    await settledOrWaiting(b, 1);
    // Meanwhile A gives P's units back, and C starts buying one of them in a transaction it has not committed.
    const released = stock.releaseStock(a.orderId);
    await settledOrWaiting(released, 2);
    const c = await db.transaction();
    // One promise of the statement: a knex query runs again each time it is awaited.
    const cReserve = Promise.resolve(
      c.raw<{ rows: { claimed: boolean; short: string[] | null }[] }>(
        'SELECT claimed, short FROM stock_reserve(?, ?, ?, ?, now(), ?::uuid[], ?::integer[], false)',
        [randomUUID(), locationId, inHours(1), inHours(1), [p], [1]],
      ),
    );
    await settledOrWaiting(cReserve, 3);
    await holdQ.commit();
    await settledOrWaiting(b, 2);
    const cResult = await cReserve;
    await c.commit();
    const [bResult] = await Promise.all([b, released]);

    // B held P's sold-out lot from its start, so the release waited for B, and C for both. B took P's other lot; C
    // took a unit A gave back, after A had given it. Each unit went to one order, and the counts agree with the units.
    expect(bResult.result.status).toBe('reserved');
    expect(cResult.rows[0]).toEqual({ claimed: true, short: null });
    expect(await lot(lotP)).toMatchObject({ available: 1, reserved: 1, free_units: '{[1,2)}' });
    expect(await lot(lotP2)).toMatchObject({ available: 0, reserved: 1 });
    expect(await units(bResult.orderId)).toEqual([
      expect.objectContaining({ lot_id: lotP2, units: '{[0,1)}' }),
      expect.objectContaining({ lot_id: lotQ, units: '{[0,1)}' }),
    ]);
    await expectNoViolations();
  });

  it('keeps every invariant through random concurrent reserve, release and commit (property)', async () => {
    const products = await Promise.all(
      ['Prop A', 'Prop B', 'Prop C'].map((name) =>
        createProduct(db, { name, price_cents: 100, eod_discount_percent: 50 }),
      ),
    );
    const lotSpec = fc.record({
      product: fc.integer({ min: 0, max: 2 }),
      quantity: fc.integer({ min: 1, max: 6 }),
      ageHours: fc.integer({ min: 0, max: 5 }),
      discounted: fc.boolean(),
    });
    const buyer = fc.record({
      lines: fc.uniqueArray(
        fc.record({ product: fc.integer({ min: 0, max: 2 }), quantity: fc.integer({ min: 1, max: 4 }) }),
        { minLength: 1, maxLength: 3, selector: (l) => l.product },
      ),
      then: fc.constantFrom('hold', 'release', 'commit', 'retry'),
    });

    await fc.assert(
      fc.asyncProperty(
        fc.array(lotSpec, { minLength: 1, maxLength: 6 }),
        fc.array(buyer, { minLength: 1, maxLength: 16 }),
        async (lots, buyers) => {
          // Each run stocks a location of its own.
          const locationId = await createLocation(db);
          const supply = [0, 0, 0];
          for (const spec of lots) {
            await addLot({
              locationId,
              productId: products[spec.product]!,
              quantity: spec.quantity,
              producedAt: inHours(-spec.ageHours - 0.1),
              discountFrom: spec.discounted ? inHours(-0.1) : null,
            });
            supply[spec.product]! += spec.quantity;
          }
          const outcomes = await Promise.all(
            buyers.map(async (b) => {
              const lines = b.lines.map((l) => ({ productId: products[l.product]!, quantity: l.quantity }));
              const input = { orderId: randomUUID(), locationId, lines, deliverBy: inHours(1).toISOString() };
              const result = await stock.reserveStock(input);
              if (result.status === 'reserved') {
                if (b.then === 'release') await stock.releaseStock(input.orderId);
                if (b.then === 'commit') await stock.commitStock(input.orderId);
                if (b.then === 'retry') expect(await stock.reserveStock(input)).toEqual(result);
              }
              return { buyer: b, result };
            }),
          );
          // Every winner paid for units it got, at 50 or 100 cents each.
          for (const { buyer: b, result } of outcomes) {
            if (result.status !== 'reserved') continue;
            result.lines.forEach((line, k) => {
              expect(line.quantity).toBe(b.lines[k]!.quantity);
              expect(line.amountCents).toBeGreaterThanOrEqual(50 * line.quantity);
              expect(line.amountCents).toBeLessThanOrEqual(100 * line.quantity);
            });
          }
          // Units held by winners that kept them never exceed supply.
          const kept = [0, 0, 0];
          for (const { buyer: b, result } of outcomes) {
            if (result.status === 'reserved' && b.then !== 'release')
              for (const l of b.lines) kept[l.product]! += l.quantity;
          }
          kept.forEach((k, p) => expect(k).toBeLessThanOrEqual(supply[p]!));
          // No false "out of stock": when the supply covers every basket at once, every buyer wins.
          const demand = [0, 0, 0];
          for (const b of buyers) for (const l of b.lines) demand[l.product]! += l.quantity;
          if (demand.every((d, p) => d <= supply[p]!))
            expect(outcomes.map((o) => o.result.status)).toEqual(buyers.map(() => 'reserved'));
          expect(await checkInventoryInvariants(db)).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('geo in the database', () => {
  it('measures distances exactly as the domain haversine does, and its delivery-area prefilter never misses (property)', async () => {
    const lat = fc.double({ min: -89.9, max: 89.9, noNaN: true });
    const lng = fc.double({ min: -180, max: 180, noNaN: true });
    await fc.assert(
      fc.asyncProperty(
        lat,
        lng,
        lat,
        lng,
        fc.integer({ min: 1, max: 50_000 }),
        async (lat1, lng1, lat2, lng2, radius) => {
          // Points within about two radii of the location, where the prefilter's answer matters.
          const near = {
            lat: lat1 + ((lat2 / 90) * radius * 2) / 111_195,
            lng: lng1 + ((lng2 / 180) * radius * 2) / 111_195,
          };
          if (Math.abs(near.lat) > 90 || Math.abs(near.lng) > 180) return;
          const { rows } = await db.raw<{ rows: { distance: number; candidate: boolean }[] }>(
            'SELECT geo_distance_m(?, ?, ?, ?) AS distance, geo_delivery_area(?, ?, ?) @> geo_point(?, ?) AS candidate',
            [lat1, lng1, near.lat, near.lng, lat1, lng1, radius, near.lat, near.lng],
          );
          const expected = haversineMeters({ lat: lat1, lng: lng1 }, near);
          expect(Math.abs(rows[0]!.distance - expected)).toBeLessThan(1e-6);
          if (expected <= radius) expect(rows[0]!.candidate).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('stock_lowest_units', () => {
  it('hands out exactly the lowest free unit numbers of any free set (property)', async () => {
    const freeSet = fc
      .uniqueArray(fc.integer({ min: 0, max: 80 }), { maxLength: 40 })
      .map((units) => units.sort((a, b) => a - b));
    await fc.assert(
      fc.asyncProperty(freeSet, fc.nat(), async (units, n) => {
        const wanted = units.length === 0 ? 0 : n % (units.length + 1);
        const free = `{${units.map((u) => `[${u},${u + 1})`).join(',')}}`;
        const { rows } = await db.raw<{ rows: { taken: string; expected: string }[] }>(
          `SELECT stock_lowest_units(?::int4multirange, ?)::text AS taken, (SELECT coalesce(range_agg(int4range(u, u + 1)), '{}')::text FROM unnest(?::int[]) AS u) AS expected`,
          [free, wanted, units.slice(0, wanted)],
        );
        expect(rows[0]!.taken).toBe(rows[0]!.expected);
      }),
      { numRuns: 60 },
    );
  });
});

describe('checkInventoryInvariants', () => {
  it('reports a lot whose units disagree with its counts', async () => {
    const locationId = await createLocation(db);
    const bun = await createProduct(db, { name: 'Corrupted bun' });
    const lotId = await addLot({ locationId, productId: bun, quantity: 5 });
    // Corrupt inside a transaction that is rolled back, so no other test ever sees it.
    const trx = await db.transaction();
    let violations: string[];
    try {
      await trx('stock_lots').where({ id: lotId }).update({ free_units: '{[0,3)}' });
      violations = await checkInventoryInvariants(trx);
    } finally {
      await trx.rollback();
    }
    expect(violations.filter((v) => v.includes(`lot ${lotId}:`))).toEqual([
      `free and discarded units match their counts: lot ${lotId}: 3 free units for available 5, 0 discarded units for discarded 0`,
      `every unit is in exactly one place: lot ${lotId}: units {[0,3)} over 3 pieces, expected exactly [0,5) once each`,
    ]);
    await expectNoViolations();
  });
});

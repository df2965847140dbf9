// The end-of-day discard on a real database of its own (it reaches every location): what a location still holds
// from before its latest closing goes, in that location's own time zone; reserved units and later bakes stay.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createInventoryActivities } from '../../activities/inventory.js';
import { createProductionActivities } from '../../activities/production.js';
import { checkInventoryInvariants } from '../../src/db/invariants.js';
import { createDb, ensureDatabase, withDatabase } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { createStockLotRepository } from '../../src/db/repositories/stock-lots.js';
import { createProduct } from '../support/stack.js';
import '../support/context.js';

const HOUR = 3_600_000;
let db: Knex;

beforeAll(async () => {
  const serverUrl = inject('databaseUrl');
  const name = `end_of_day_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(withDatabase(serverUrl, 'postgres'), name);
  db = createDb(withDatabase(serverUrl, name));
  await migrateLatest(db);
});

afterAll(async () => {
  await db?.destroy();
});

/** The wall-clock time `at` shows in `timeZone`, as Postgres's `time` wants it. */
function localTime(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    at,
  );
}

async function location(timezone: string, closesAt: string): Promise<string> {
  const [row] = await db('locations')
    .insert({
      name: `Closing ${timezone}`,
      kind: 'bakery',
      lat: 51.5,
      lng: -0.1,
      delivery_radius_m: 5000,
      timezone,
      opens_at: '00:00',
      closes_at: closesAt,
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

it('discards what each location still holds from before its latest closing, and nothing else', async () => {
  const now = new Date();
  const inventory = createStockLotRepository(db);
  const product = await createProduct(db, { name: 'Evening loaf', shelf_life_minutes: 3 * 24 * 60 });
  const lot = async (locationId: string, quantity: number, producedHoursAgo: number) => {
    const result = await inventory.receiveLot(
      {
        locationId,
        productId: product,
        quantity,
        producedAt: new Date(now.getTime() - producedHoursAgo * HOUR),
        expiresAt: new Date(now.getTime() + 24 * HOUR),
      },
      now,
    );
    if (result.status !== 'received') throw new Error(`lot refused: ${result.status}`);
    return result.lot.id;
  };

  // New York closed an hour ago, in its own time: its afternoon bake goes, except what an order holds; the bake after closing stays.
  const newYork = await location('America/New_York', localTime(new Date(now.getTime() - HOUR), 'America/New_York'));
  const afternoon = await lot(newYork, 10, 3);
  const tomorrows = await lot(newYork, 5, 0.25);
  const orderId = randomUUID();
  const held = await createInventoryActivities(db).reserveStock({
    orderId,
    locationId: newYork,
    lines: [{ productId: product, quantity: 14 }],
    deliverBy: new Date(now.getTime() + HOUR).toISOString(),
  });
  expect(held.status).toBe('reserved');
  // Fourteen units: the ten of the older lot first, then four of the newer.

  // Tokyo closes in an hour: its latest closing was yesterday's, so only what was baked before that goes.
  const tokyo = await location('Asia/Tokyo', localTime(new Date(now.getTime() + HOUR), 'Asia/Tokyo'));
  const yesterdays = await lot(tokyo, 7, 30);
  const todays = await lot(tokyo, 8, 3);

  const result = await createProductionActivities(db).discardAfterClosing();
  expect(result).toEqual({ lots: 1, units: 7 });
  const lots = async () =>
    Object.fromEntries(
      (
        await db('stock_lots')
          .whereIn('id', [afternoon, tomorrows, yesterdays, todays])
          .select<{ id: number; available: number; reserved: number; discarded: number }[]>(
            'id',
            'available',
            'reserved',
            'discarded',
          )
      ).map((r) => [Number(r.id), { available: r.available, reserved: r.reserved, discarded: r.discarded }]),
    );
  expect(await lots()).toEqual({
    [afternoon]: { available: 0, reserved: 10, discarded: 0 },
    [tomorrows]: { available: 1, reserved: 4, discarded: 0 },
    [yesterdays]: { available: 0, reserved: 0, discarded: 7 },
    [todays]: { available: 8, reserved: 0, discarded: 0 },
  });

  // Release the order: the afternoon bake's ten units come back after closing, and the next run throws them out.
  await createInventoryActivities(db).releaseStock(orderId);
  expect(await createProductionActivities(db).discardAfterClosing()).toEqual({ lots: 1, units: 10 });
  expect((await lots())[afternoon]).toEqual({ available: 0, reserved: 0, discarded: 10 });
  expect((await lots())[tomorrows]).toEqual({ available: 5, reserved: 0, discarded: 0 });
  // Nothing is left to discard, and every discard was announced on its location's stream.
  expect(await createProductionActivities(db).discardAfterClosing()).toEqual({ lots: 0, units: 0 });
  const announced = await db('events')
    .where({ type: 'stock.discarded' })
    .select<{ stream: string; payload: { lotId: number; units: number; reason: string } }[]>('stream', 'payload');
  expect(announced.map((e) => [e.stream, e.payload.lotId, e.payload.units, e.payload.reason]).sort()).toEqual(
    [
      [`location:${newYork}`, afternoon, 10, 'closing'],
      [`location:${tokyo}`, yesterdays, 7, 'closing'],
    ].sort(),
  );
  expect(await checkInventoryInvariants(db)).toEqual([]);
});

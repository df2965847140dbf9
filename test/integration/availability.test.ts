// Catalog and availability over HTTP on the real stack: creating products, locations and lots, and the nearby union customers see.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInventoryActivities } from '../../activities/inventory.js';
import { checkInventoryInvariants } from '../../src/db/invariants.js';
import { createAvailabilityRepository } from '../../src/db/repositories/availability.js';
import { createReachEstimate } from '../../src/db/repositories/reach-estimate.js';
import { createStockLotRepository } from '../../src/db/repositories/stock-lots.js';
import { DEMO_LOCATION, seedDemo, type DemoData } from '../../src/db/seed.js';
import { haversineMeters } from '../../src/domain/geo.js';
import type { ProductTag } from '../../src/domain/vocabulary.js';
import { createLocation, createProduct, createUser, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let operator: { id: string; token: string };
let owner: { id: string; token: string };
let otherOwner: { id: string; token: string };
let customer: { id: string; token: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();

/** A random patch of the South Pacific, so no other test's locations reach it. */
function quietArea(): { lat: number; lng: number } {
  return { lat: -55 + Math.random() * 40, lng: -170 + Math.random() * 70 };
}

/** The point `metres` north of `from`. */
function north(from: { lat: number; lng: number }, metres: number) {
  return { lat: from.lat + metres / 111_195, lng: from.lng };
}

/** Rows in `table` matching `where`: other test files write to the same tables at the same time. */
const count = async (table: string, where: Record<string, unknown>) =>
  Number((await stack.db(table).where(where).count<{ count: number }[]>('* as count'))[0]!.count);

beforeAll(async () => {
  stack = await startTestStack();
  operator = await createUser(stack.db, 'operator');
  owner = await createUser(stack.db, 'owner');
  otherOwner = await createUser(stack.db, 'owner');
  customer = await createUser(stack.db, 'customer');
});

afterAll(async () => {
  await stack?.stop();
});

async function receive(locationId: string, body: Record<string, unknown>, token = operator.token) {
  const res = await stack.api('POST', `/v1/locations/${locationId}/stock`, { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; discountFrom: string | null; expiresAt: string; producedAt: string };
}

const availability = (query: Record<string, string | number>) =>
  stack.api('GET', `/v1/availability?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`);

describe('POST /v1/products', () => {
  it('lets operators and owners add products, and no one else', async () => {
    const body = {
      name: 'Rye sourdough',
      description: 'Dark',
      priceCents: 650,
      shelfLifeMinutes: 2880,
      eodDiscountPercent: 30,
    };
    const created = await stack.api('POST', '/v1/products', { token: operator.token, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(body);
    expect(
      (await stack.api('POST', '/v1/products', { token: owner.token, body: { ...body, description: undefined } })).body,
    ).toMatchObject({ description: '', eodDiscountPercent: 30 });
    expect((await stack.api('POST', '/v1/products', { token: customer.token, body })).status).toBe(403);
    expect((await stack.api('POST', '/v1/products', { body })).status).toBe(401);
  });

  it('refuses bad products with a 4xx and writes nothing', async () => {
    const good = { name: `Refused bun ${randomUUID()}`, priceCents: 100, shelfLifeMinutes: 60 };
    const names = ['', '   ', 'x'.repeat(201), good.name];
    const before = await stack.db('products').whereIn('name', names).count<{ count: number }[]>('* as count');
    const bad: unknown[] = [
      { ...good, name: '' },
      { ...good, name: '   ' },
      { ...good, name: 'x'.repeat(201) },
      { ...good, priceCents: -1 },
      { ...good, priceCents: 1.5 },
      { ...good, priceCents: 100_000_000 },
      { ...good, shelfLifeMinutes: 0 },
      { ...good, eodDiscountPercent: 101 },
      { ...good, colour: 'brown' },
      { name: good.name, priceCents: 100 },
      `{"name":"${good.name}",`,
    ];
    for (const body of bad) {
      const res = await stack.api('POST', '/v1/products', { token: operator.token, body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
    expect(await stack.db('products').whereIn('name', names).count<{ count: number }[]>('* as count')).toEqual(before);
  });
});

describe('POST /v1/locations', () => {
  it('lets operators open a location with its owners, who may then receive stock there', async () => {
    const at = quietArea();
    const res = await stack.api('POST', '/v1/locations', {
      token: operator.token,
      body: {
        name: 'Harbour kitchen',
        kind: 'kitchen',
        ...at,
        deliveryRadiusM: 6000,
        timezone: 'Pacific/Auckland',
        opensAt: '07:00',
        closesAt: '21:30',
        ownerIds: [owner.id],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'Harbour kitchen',
      kind: 'kitchen',
      deliveryRadiusM: 6000,
      timezone: 'Pacific/Auckland',
      opensAt: '07:00',
      closesAt: '21:30',
      ownerIds: [owner.id],
    });
    const productId = await createProduct(stack.db);
    expect(
      (
        await stack.api('POST', `/v1/locations/${res.body.id}/stock`, {
          token: owner.token,
          body: { productId, quantity: 3 },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await stack.api('POST', '/v1/locations', {
          token: owner.token,
          body: { name: 'Mine', kind: 'bakery', ...at, deliveryRadiusM: 100 },
        })
      ).status,
    ).toBe(403);
  });

  it('refuses bad locations with a 4xx and writes nothing', async () => {
    const good = { name: `Refused bakery ${randomUUID()}`, kind: 'bakery', lat: -40, lng: -120, deliveryRadiusM: 5000 };
    const cases: [unknown, number, string][] = [
      [{ ...good, lat: 91 }, 400, 'validation_failed'],
      [{ ...good, lat: -90.01 }, 400, 'validation_failed'],
      [{ ...good, lng: 180.5 }, 400, 'validation_failed'],
      [{ ...good, lng: 'east' }, 400, 'validation_failed'],
      [{ ...good, deliveryRadiusM: 0 }, 400, 'validation_failed'],
      [{ ...good, deliveryRadiusM: 50_001 }, 400, 'validation_failed'],
      [{ ...good, kind: 'store' }, 400, 'validation_failed'],
      [{ ...good, closesAt: '24:00' }, 400, 'validation_failed'],
      [{ ...good, timezone: 'Mars/Olympus_Mons' }, 422, 'unknown_timezone'],
      [{ ...good, ownerIds: [customer.id] }, 422, 'unknown_owner'],
      [{ ...good, ownerIds: [randomUUID()] }, 422, 'unknown_owner'],
      [{ ...good, ownerIds: [owner.id, owner.id] }, 400, 'validation_failed'],
    ];
    for (const [body, status, error] of cases) {
      const res = await stack.api('POST', '/v1/locations', { token: operator.token, body });
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status, error });
      expect(typeof res.body.message).toBe('string');
    }
    expect(await count('locations', { name: good.name })).toBe(0);
  });
});

describe('POST /v1/locations/:id/stock', () => {
  it('receives a lot for the owners of the location and operators, with the shelf life as the default expiry', async () => {
    const locationId = await createLocation(stack.db, quietArea());
    await stack.db('location_staff').insert({ user_id: owner.id, location_id: locationId, role: 'owner' });
    const productId = await createProduct(stack.db, { name: 'Shelf-life bun', shelf_life_minutes: 90 });
    const lot = await receive(locationId, { productId, quantity: 12 }, owner.token);
    expect(lot).toMatchObject({
      locationId,
      productId,
      quantity: 12,
      available: 12,
      reserved: 0,
      sold: 0,
      discarded: 0,
    });
    expect(Date.parse(lot.expiresAt) - Date.parse(lot.producedAt)).toBe(90 * MINUTE);
    expect(
      (
        await stack.api('POST', `/v1/locations/${locationId}/stock`, {
          token: operator.token,
          body: { productId, quantity: 1 },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await stack.api('POST', `/v1/locations/${locationId}/stock`, {
          token: otherOwner.token,
          body: { productId, quantity: 1 },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await stack.api('POST', `/v1/locations/${locationId}/stock`, {
          token: customer.token,
          body: { productId, quantity: 1 },
        })
      ).status,
    ).toBe(403);
    expect(
      (await stack.api('POST', `/v1/locations/${locationId}/stock`, { body: { productId, quantity: 1 } })).status,
    ).toBe(401);
  });

  it('refuses bad lots with a 4xx and writes nothing', async () => {
    const locationId = await createLocation(stack.db, quietArea());
    const productId = await createProduct(stack.db, { name: 'Refused bun' });

    const cases: [string, unknown, number, string][] = [
      [locationId, { productId, quantity: 0 }, 400, 'validation_failed'],
      [locationId, { productId, quantity: -5 }, 400, 'validation_failed'],
      [locationId, { productId, quantity: 2.5 }, 400, 'validation_failed'],
      [locationId, { productId, quantity: 100_001 }, 400, 'validation_failed'],
      [locationId, { productId, quantity: 1e15 }, 400, 'validation_failed'],
      [locationId, { productId: 'bun', quantity: 1 }, 400, 'validation_failed'],
      [locationId, { productId, quantity: 1, producedAt: 'this morning' }, 400, 'validation_failed'],
      [locationId, { productId, quantity: 1, colour: 'gold' }, 400, 'validation_failed'],
      [locationId, { productId: randomUUID(), quantity: 1 }, 422, 'unknown_product'],
      [locationId, { productId, quantity: 1, expiresAt: iso(-MINUTE) }, 422, 'already_expired'],
      [
        locationId,
        { productId, quantity: 1, producedAt: iso(-HOUR), expiresAt: iso(-2 * HOUR) },
        422,
        'already_expired',
      ],
      [
        locationId,
        { productId, quantity: 1, producedAt: iso(50_000), expiresAt: iso(30_000) },
        422,
        'expires_before_produced',
      ],
      [locationId, { productId, quantity: 1, producedAt: iso(HOUR) }, 422, 'produced_in_future'],
      [locationId, { productId, quantity: 1, expiresAt: iso(400 * 24 * HOUR) }, 422, 'expiry_too_far'],
      [randomUUID(), { productId, quantity: 1 }, 404, 'not_found'],
      ['not-a-location', { productId, quantity: 1 }, 400, 'validation_failed'],
    ];
    for (const [id, body, status, error] of cases) {
      const res = await stack.api('POST', `/v1/locations/${id}/stock`, { token: operator.token, body });
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status, error });
      expect(typeof res.body.message).toBe('string');
    }
    expect(await count('stock_lots', { product_id: productId })).toBe(0);
  });

  it("honours an Idempotency-Key: the same request answers with the same lot, another is refused, and keys are the caller's own", async () => {
    const locationId = await createLocation(stack.db, quietArea());
    const elsewhere = await createLocation(stack.db, quietArea());
    const productId = await createProduct(stack.db, { name: 'Keyed bun' });
    const [first, second] = [
      await createUser(stack.db, 'owner', { locationIds: [locationId, elsewhere] }),
      await createUser(stack.db, 'owner', { locationIds: [locationId] }),
    ];
    const send = (token: string, body: Record<string, unknown>, key?: string, at = locationId) =>
      stack.api('POST', `/v1/locations/${at}/stock`, {
        token,
        body,
        headers: key === undefined ? {} : { 'idempotency-key': key },
      });
    const lots = () => count('stock_lots', { product_id: productId });
    const body = { productId, quantity: 12 };
    const key = randomUUID();

    const received = await send(first.token, body, key);
    expect(received.status).toBe(201);
    expect(received.headers.get('idempotent-replayed')).toBeNull();
    const again = await send(first.token, body, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(received.body);
    expect(await lots()).toBe(1);

    for (const [other, at] of [
      [{ ...body, quantity: 13 }, locationId],
      [{ ...body, expiresAt: iso(HOUR) }, locationId],
      [body, elsewhere],
    ] as const) {
      const reused = await send(first.token, other, key, at);
      expect({ other, at, status: reused.status, body: reused.body }).toEqual({
        other,
        at,
        status: 422,
        body: { error: 'idempotency_key_reused', message: expect.any(String) },
      });
    }
    expect(await lots()).toBe(1);

    // Another owner of the same location, and an operator, pick the same key for their own lots.
    const theirs = await send(second.token, body, key);
    const operators = await send(operator.token, body, key);
    expect([theirs.status, operators.status]).toEqual([201, 201]);
    expect(new Set([received.body.id, theirs.body.id, operators.body.id]).size).toBe(3);
    expect(await lots()).toBe(3);

    // Without the header every request is a lot of its own, as before.
    expect((await send(first.token, body)).status).toBe(201);
    expect((await send(first.token, body)).status).toBe(201);
    expect(await lots()).toBe(5);
  });

  it('makes one lot for one Idempotency-Key however many retries race the first request', async () => {
    const locationId = await createLocation(stack.db, quietArea());
    const productId = await createProduct(stack.db, { name: 'Raced bun' });
    const key = randomUUID();
    const tries = await Promise.all(
      Array.from({ length: 8 }, () =>
        stack.api('POST', `/v1/locations/${locationId}/stock`, {
          token: operator.token,
          body: { productId, quantity: 7 },
          headers: { 'idempotency-key': key },
        }),
      ),
    );
    expect(tries.map((t) => t.status)).toEqual(tries.map(() => 201));
    expect(new Set(tries.map((t) => t.body.id)).size).toBe(1);
    expect(await count('stock_lots', { product_id: productId })).toBe(1);
    expect(await count('lot_idempotency_keys', { user_id: operator.id, key })).toBe(1);
    expect(await checkInventoryInvariants(stack.db)).toEqual([]);
  });

  it('refuses an Idempotency-Key that is empty, too long or not printable, and a refused lot claims no key', async () => {
    const locationId = await createLocation(stack.db, quietArea());
    const productId = await createProduct(stack.db, { name: 'Badly keyed bun' });
    for (const key of ['', 'k'.repeat(201), 'caf\u00e9']) {
      const res = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
        token: operator.token,
        body: { productId, quantity: 1 },
        headers: { 'idempotency-key': key },
      });
      expect({ key, status: res.status, error: res.body.error }).toEqual({
        key,
        status: 400,
        error: 'validation_failed',
      });
    }
    expect(await count('stock_lots', { product_id: productId })).toBe(0);

    const key = randomUUID();
    const expired = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: operator.token,
      body: { productId, quantity: 1, expiresAt: iso(-MINUTE) },
      headers: { 'idempotency-key': key },
    });
    expect(expired.body.error).toBe('already_expired');
    expect(await count('lot_idempotency_keys', { user_id: operator.id, key })).toBe(0);
    const fixed = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: operator.token,
      body: { productId, quantity: 1 },
      headers: { 'idempotency-key': key },
    });
    expect(fixed.status).toBe(201);
  });

  it('opens the end-of-day discount half an hour before expiry or before the location closes, in its own time zone', async () => {
    const productId = await createProduct(stack.db, { name: 'Window bun', shelf_life_minutes: 600 });
    const producedAt = Date.now() - HOUR;
    // The first instant after production whose UTC wall clock reads hh:mm.
    const nextUtc = (hh: number, mm: number) => {
      const day = new Date(producedAt);
      let at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hh, mm);
      while (at <= producedAt) at += 24 * HOUR;
      return at;
    };
    // Kolkata is UTC+05:30 all year: closing at 22:00 there is 16:30 UTC.
    const kolkata = (
      await stack.api('POST', '/v1/locations', {
        token: operator.token,
        body: {
          name: 'Kolkata kitchen',
          kind: 'kitchen',
          ...quietArea(),
          deliveryRadiusM: 3000,
          timezone: 'Asia/Kolkata',
          closesAt: '22:00',
        },
      })
    ).body;
    const longLived = await receive(kolkata.id, {
      productId,
      quantity: 1,
      producedAt: new Date(producedAt).toISOString(),
      expiresAt: iso(72 * HOUR),
    });
    expect(Date.parse(longLived.discountFrom!)).toBe(Math.max(producedAt, nextUtc(16, 30) - 30 * MINUTE));
    const shortLived = await receive(kolkata.id, {
      productId,
      quantity: 1,
      producedAt: new Date(producedAt).toISOString(),
      expiresAt: iso(20 * MINUTE),
    });
    expect(Date.parse(shortLived.discountFrom!)).toBe(
      Math.max(producedAt, Math.min(Date.parse(shortLived.expiresAt), nextUtc(16, 30)) - 30 * MINUTE),
    );
  });
});

describe('the demo seed', () => {
  it('stocks the demo location on every start, topping up only what runs low', async () => {
    const demo: DemoData = {
      locationId: randomUUID(),
      users: Object.fromEntries(
        ['customer', 'customer2', 'owner', 'driver', 'driver2', 'operator'].map((name) => [
          name,
          { id: randomUUID(), token: `demo_${randomUUID()}` },
        ]),
      ) as DemoData['users'],
    };
    const productIds = await seedDemo(stack.db, demo);
    const fresh = async () =>
      createStockLotRepository(stack.db).freshUnits(demo.locationId, productIds, new Date(Date.now() + HOUR));
    expect([...(await fresh()).values()].every((units) => units >= 50)).toBe(true);
    expect((await fresh()).size).toBe(productIds.length);
    const lots = await count('stock_lots', { location_id: demo.locationId });
    await seedDemo(stack.db, demo);
    expect(await count('stock_lots', { location_id: demo.locationId })).toBe(lots);

    // A customer next door sees it.
    const res = await availability({ lat: DEMO_LOCATION.lat, lng: DEMO_LOCATION.lng, q: 'sourdough loaf', limit: 100 });
    const sourdough = res.body.items.filter((i: { locations: { locationId: string }[] }) =>
      i.locations.some((l) => l.locationId === demo.locationId),
    );
    expect(sourdough).toHaveLength(1);
    expect(
      sourdough[0].locations.find((l: { locationId: string }) => l.locationId === demo.locationId).available,
    ).toBeGreaterThanOrEqual(50);
  });
});

describe('GET /v1/locations', () => {
  it('lists the locations whose delivery area covers the point, nearest first', async () => {
    const home = quietArea();
    const near = await createLocation(stack.db, { name: 'Near', ...north(home, 2000), delivery_radius_m: 5000 });
    const far = await createLocation(stack.db, {
      name: 'Far but wide',
      ...north(home, -7000),
      delivery_radius_m: 10_000,
    });
    await createLocation(stack.db, { name: 'Far and narrow', ...north(home, 7000), delivery_radius_m: 5000 });
    const res = await stack.api('GET', `/v1/locations?lat=${home.lat}&lng=${home.lng}`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((l: { id: string }) => l.id)).toEqual([near, far]);
    expect(res.body.items[0].distanceM).toBe(Math.round(haversineMeters(home, north(home, 2000))));
  });

  it('reaches across the antimeridian', async () => {
    const fiji = { lat: -16.5 - Math.random(), lng: 179.99 };
    const id = await createLocation(stack.db, { name: 'Dateline bakery', ...fiji, delivery_radius_m: 5000 });
    const res = await stack.api('GET', `/v1/locations?lat=${fiji.lat}&lng=-179.99`);
    expect(res.body.items.map((l: { id: string }) => l.id)).toContain(id);
  });

  it('refuses points off the globe', async () => {
    for (const query of ['lat=91&lng=0', 'lat=0&lng=-181', 'lat=north&lng=0', 'lat=10', 'lat=1&lng=1&radius=5']) {
      const res = await stack.api('GET', `/v1/locations?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body).toMatchObject({ error: 'validation_failed', message: expect.any(String) });
    }
  });
});

describe('the two ways a page is read', () => {
  it('give the same pages: the merge of ordered scans and the lateral query, browsing, searching, filtering, sorting and paging', async () => {
    const area = quietArea();
    const now = new Date();
    const merged = createAvailabilityRepository(stack.db);
    const lateral = createAvailabilityRepository(stack.db, { mergeMaxLocations: 0 });
    // Reading a page in one round trip: for every point here, and for none (seven locations deliver: more than three,
    // and more than six).
    const oneTrip = createAvailabilityRepository(stack.db, { oneTripLocations: 16 });
    const tooFewForOneTrip = createAvailabilityRepository(stack.db, { oneTripLocations: 3 });
    // Reading it again with room for twice as many: eight.
    const oneTripTwice = createAvailabilityRepository(stack.db, { oneTripLocations: 4 });
    // Estimates that are wrong (a copy of the locations out of date) cost a second read or the other way, never a page.
    const underestimating = createAvailabilityRepository(stack.db, { oneTripLocations: 4, reach: { count: () => 1 } });
    const overestimating = createAvailabilityRepository(stack.db, { reach: { count: () => 1000 } });
    const locations: string[] = [];
    for (let i = 0; i < 6; i++)
      locations.push(
        await createLocation(stack.db, { ...north(area, i * 700), delivery_radius_m: 5000, name: `Merge ${i}` }),
      );
    // A second shop at the first one's very spot: in distance order their products are read together, in name order.
    locations.push(
      await createLocation(stack.db, { ...north(area, 0), delivery_radius_m: 5000, name: 'Merge 0 twin' }),
    );
    const [bread, pastry] = await stack
      .db('categories')
      .insert([{ name: `Bread ${randomUUID()}` }, { name: `Pastry ${randomUUID()}` }])
      .returning<{ id: string }[]>('id');
    const tagSets: ProductTag[][] = [[], ['vegan'], ['vegan', 'organic'], ['organic', 'contains_nuts'], ['halal']];
    const words = ['rye', 'seeded rye', 'spelt', 'honey bun', 'rye bun'];
    const products: string[] = [];
    for (let i = 0; i < 24; i++) {
      const id = await createProduct(stack.db, {
        name: `${words[i % words.length]} ${i}`,
        eod_discount_percent: (i % 3) * 10,
        shelf_life_minutes: 600,
        // Prices repeat, so the name and id break ties.
        price_cents: 100 + (i % 7) * 50,
      });
      await stack
        .db('products')
        .where({ id })
        .update({ category_id: [bread!.id, pastry!.id, null][i % 3], tags: tagSets[i % tagSets.length] });
      products.push(id);
    }
    // Lots of every age: some fresh for a day, some soon gone, some already in their discount window.
    for (let i = 0; i < 90; i++) {
      const expiresInMs = ((((i * 37) % 20) + 1) * HOUR) / 2;
      await createStockLotRepository(stack.db).receiveLot(
        {
          // A product reappears every 24 lots, each time at another location.
          locationId: locations[(i + Math.floor(i / 24)) % locations.length]!,
          productId: products[(i * 11) % products.length]!,
          quantity: 1 + (i % 5),
          producedAt: new Date(now.getTime() - HOUR),
          expiresAt: new Date(now.getTime() + expiresInMs),
        },
        now,
      );
    }
    type Query = Omit<
      Parameters<ReturnType<typeof createAvailabilityRepository>['availabilityPage']>[0],
      'point' | 'now' | 'after'
    >;
    // A point whose nearest location (Merge 2, 100 m away) has no twin, so that it can fill a first page in distance
    // order by itself.
    const elsewhere = north(area, 1500);
    const pages = async (repo: ReturnType<typeof createAvailabilityRepository>, query: Query, point = area) => {
      const all = [];
      let after;
      for (let n = 0; n < 50; n++) {
        const page = await repo.availabilityPage({ point, now, after, ...query });
        all.push({ items: page.items, facets: page.facets });
        if (!page.hasMore) break;
        after = page.last;
      }
      return all;
    };
    const bases: Query[] = [
      { words: [], freshAt: now, limit: 5 },
      { words: [], freshAt: new Date(now.getTime() + 3 * HOUR), limit: 7 },
      { words: ['rye'], freshAt: now, limit: 3 },
      { words: ['BUN', 'rye'], freshAt: now, limit: 2 },
      { words: ['nothing-like-this'], freshAt: now, limit: 5 },
    ];
    const filters = [
      {},
      { categoryId: bread!.id },
      { tags: ['vegan'] as ProductTag[] },
      { tags: ['vegan', 'organic'] as ProductTag[] },
      { maxPriceCents: 200 },
      { categoryId: pastry!.id, tags: ['organic'] as ProductTag[], maxPriceCents: 300 },
    ];
    /** The statements the database is sent until `stop()`. */
    const countStatements = () => {
      const sent: string[] = [];
      const listener = (query: { sql: string }) => sent.push(query.sql);
      stack.db.on('query', listener);
      return { stop: () => (stack.db.removeListener('query', listener), sent) };
    };
    const prices = new Map(
      (await stack.db('products').whereIn('id', products).select('id', 'price_cents', 'category_id', 'tags')).map(
        (p) => [p.id as string, p as { price_cents: number; category_id: string | null; tags: ProductTag[] }],
      ),
    );
    for (const base of bases) {
      const unfiltered = (await pages(lateral, base)).flatMap((p) => p.items);
      for (const filter of filters) {
        const inName = (await pages(lateral, { ...base, filter })).flatMap((p) => p.items);
        if (base === bases[0]) expect(inName.length, JSON.stringify(filter)).toBeGreaterThan(0);
        // The filter keeps exactly the products it describes, whatever the sort.
        expect(inName.map((i) => i.productId)).toEqual(
          unfiltered
            .filter((i) => {
              const p = prices.get(i.productId)!;
              return (
                (filter.categoryId === undefined || p.category_id === filter.categoryId) &&
                (filter.tags ?? []).every((t) => p.tags.includes(t)) &&
                (filter.maxPriceCents === undefined || p.price_cents <= filter.maxPriceCents)
              );
            })
            .map((i) => i.productId),
        );
        for (const sort of ['name', 'price', 'distance'] as const) {
          const query = { ...base, filter, sort };
          const expected = await pages(lateral, query);
          expect(await pages(merged, query), JSON.stringify(query)).toEqual(expected);
          const withoutFacets = expected.map((page) => ({ items: page.items, facets: undefined }));
          for (const repo of [oneTrip, oneTripTwice, tooFewForOneTrip, underestimating, overestimating])
            expect(await pages(repo, { ...query, facets: false }), JSON.stringify(query)).toEqual(withoutFacets);
          if (sort === 'distance') {
            const there = (await pages(lateral, query, elsewhere)).map((page) => ({ ...page, facets: undefined }));
            for (const repo of [oneTrip, oneTripTwice, tooFewForOneTrip, underestimating, overestimating])
              expect(await pages(repo, { ...query, facets: false }, elsewhere), JSON.stringify(query)).toEqual(there);
            // However the page is found: the nearest location filling it, or every location's stock ranked.
            for (const point of [area, elsewhere]) {
              const statements = countStatements();
              await oneTrip.availabilityPage({ point, now, after: undefined, ...query, facets: false });
              expect(statements.stop(), JSON.stringify(query)).toHaveLength(1);
            }
          }
          for (const page of expected) expect(page.facets).toEqual(expected[0]!.facets);
          const items = expected.flatMap((p) => p.items);
          expect(new Set(items.map((i) => i.productId))).toEqual(new Set(inName.map((i) => i.productId)));
          expect(items.length).toBe(inName.length);
          const lead = (i: (typeof items)[number]) =>
            sort === 'price' ? i.priceCents : sort === 'distance' ? i.locations[0]!.distanceM : 0;
          for (let n = 1; n < items.length; n++) expect(lead(items[n]!)).toBeGreaterThanOrEqual(lead(items[n - 1]!));
          if (base === bases[0] && sort !== 'name' && filter === filters[0])
            expect(items.map((i) => i.productId)).not.toEqual(inName.map((i) => i.productId));
        }
      }
      if (base.words.length === 0 && base.freshAt === now) expect(unfiltered.length).toBeGreaterThan(15);
    }
  });
});

describe('the estimate of how many locations deliver to a point', () => {
  it('counts them from its copy of every location, and reads the copy again once it is old', async () => {
    const area = quietArea();
    const repo = createAvailabilityRepository(stack.db);
    const estimate = createReachEstimate(stack.db, { maxAgeMs: 0 });
    expect(estimate.count(area)).toBeUndefined();
    await vi.waitFor(() => expect(estimate.count(area)).toBe(0));
    for (const [metres, radius] of [
      [0, 5000],
      [3000, 2000],
      [9000, 5000],
      [-40_000, 50_000],
    ] as const)
      await createLocation(stack.db, { ...north(area, metres), delivery_radius_m: radius, name: `Reach ${metres}` });
    const points = [-95_000, -12_000, -6000, -1000, 0, 1500, 3999, 5001, 8500, 14_100, 30_000].map((m) =>
      north(area, m),
    );
    const truth = await Promise.all(points.map(async (p) => (await repo.locationsDeliveringTo(p)).length));
    expect(truth.some((n) => n >= 3)).toBe(true);
    await vi.waitFor(() => expect(points.map((p) => estimate.count(p))).toEqual(truth));
  });

  it('holds across the antimeridian', async () => {
    const lat = -60 - Math.random() * 10;
    await createLocation(stack.db, { lat, lng: 179.99, delivery_radius_m: 5000, name: 'Date line' });
    const estimate = createReachEstimate(stack.db);
    await vi.waitFor(() => expect(estimate.count({ lat, lng: -179.99 })).toBe(1));
    expect(estimate.count({ lat, lng: -179.8 })).toBe(0);
  });
});

describe('GET /v1/availability', () => {
  it('is the union of fresh stock across every location that delivers there, with a per-location breakdown', async () => {
    const home = quietArea();
    const a = await createLocation(stack.db, { name: 'A', ...north(home, 1000), delivery_radius_m: 5000 });
    const b = await createLocation(stack.db, { name: 'B', ...north(home, -3000), delivery_radius_m: 8000 });
    const c = await createLocation(stack.db, { name: 'C out of reach', ...north(home, 9000), delivery_radius_m: 5000 });
    const bread = await createProduct(stack.db, { name: 'Union bread', price_cents: 500 });
    const tart = await createProduct(stack.db, { name: 'Union tart', price_cents: 450 });
    const pie = await createProduct(stack.db, { name: 'Union pie' });
    await receive(a, { productId: bread, quantity: 3 });
    await receive(b, { productId: bread, quantity: 4 });
    await receive(b, { productId: tart, quantity: 2 });
    await receive(c, { productId: pie, quantity: 9 });
    // Expired stock never shows, even before the sweep discards it.
    await stack.db('stock_lots').insert({
      location_id: a,
      product_id: tart,
      quantity: 5,
      available: 5,
      free_units: '{[0,5)}',
      produced_at: iso(-5 * HOUR),
      expires_at: iso(-MINUTE),
    });

    const res = await availability({ lat: home.lat, lng: home.lng });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((i: { name: string }) => i.name)).toEqual(['Union bread', 'Union tart']);
    const [breadItem, tartItem] = res.body.items;
    expect(breadItem).toMatchObject({
      productId: bread,
      available: 7,
      discountedAvailable: 0,
      priceCents: 500,
      priceInEffectCents: 500,
    });
    expect(
      breadItem.locations.map((l: { locationId: string; available: number }) => [l.locationId, l.available]),
    ).toEqual([
      [a, 3],
      [b, 4],
    ]);
    expect(tartItem).toMatchObject({ productId: tart, available: 2, locations: [{ locationId: b, available: 2 }] });

    // A reservation takes units out of the union at once.
    const orderId = randomUUID();
    await createInventoryActivities(stack.db).reserveStock({
      orderId,
      locationId: b,
      lines: [{ productId: bread, quantity: 4 }],
      deliverBy: iso(HOUR),
    });
    const after = await availability({ lat: home.lat, lng: home.lng });
    expect(after.body.items[0]).toMatchObject({
      productId: bread,
      available: 3,
      locations: [{ locationId: a, available: 3 }],
    });
    expect(await checkInventoryInvariants(stack.db)).toEqual([]);
  });

  it('counts only stock still fresh at deliverBy, when asked', async () => {
    const home = quietArea();
    const location = await createLocation(stack.db, { ...home, delivery_radius_m: 2000 });
    const salad = await createProduct(stack.db, { name: 'Wilting salad' });
    await receive(location, { productId: salad, quantity: 2, expiresAt: iso(30 * MINUTE) });
    await receive(location, { productId: salad, quantity: 5, expiresAt: iso(3 * HOUR) });
    expect((await availability({ ...home })).body.items[0].available).toBe(7);
    expect((await availability({ ...home, deliverBy: iso(HOUR) })).body.items[0].available).toBe(5);
    expect((await availability({ ...home, deliverBy: iso(4 * HOUR) })).body.items).toEqual([]);
  });

  it('shows the discounted price for units whose lot is in its discount window', async () => {
    const home = quietArea();
    const location = await createLocation(stack.db, { ...home, delivery_radius_m: 2000 });
    const croissant = await createProduct(stack.db, {
      name: 'Evening croissant',
      price_cents: 325,
      eod_discount_percent: 40,
    });
    // The window opens 30 minutes before expiry: open for the first lot, hours away for the second.
    const closing = await receive(location, {
      productId: croissant,
      quantity: 2,
      producedAt: iso(-2 * HOUR),
      expiresAt: iso(20 * MINUTE),
    });
    const later = await receive(location, {
      productId: croissant,
      quantity: 3,
      producedAt: iso(-HOUR),
      expiresAt: iso(3 * HOUR),
    });
    expect(Date.parse(closing.discountFrom!)).toBeLessThan(Date.now());
    expect(Date.parse(later.discountFrom!)).toBeGreaterThan(Date.now());

    const item = (await availability({ ...home })).body.items[0];
    expect(item).toMatchObject({
      priceCents: 325,
      discountedPriceCents: 195,
      priceInEffectCents: 195,
      available: 5,
      discountedAvailable: 2,
    });
    expect(item.locations[0]).toMatchObject({ available: 5, discountedAvailable: 2, priceInEffectCents: 195 });

    // The lot timer opens the second lot's window early; a customer pays what the availability said.
    await createInventoryActivities(stack.db).discountLot(later.id);
    expect((await availability({ ...home })).body.items[0]).toMatchObject({
      discountedAvailable: 5,
      priceInEffectCents: 195,
    });
    const reserved = await createInventoryActivities(stack.db).reserveStock({
      orderId: randomUUID(),
      locationId: location,
      lines: [{ productId: croissant, quantity: 3 }],
      deliverBy: iso(10 * MINUTE),
    });
    expect(reserved).toEqual({
      status: 'reserved',
      lines: [{ productId: croissant, quantity: 3, amountCents: 3 * 195 }],
    });
  });

  it('pages through products in name order with a cursor that stays stable when stock changes', async () => {
    const home = quietArea();
    const location = await createLocation(stack.db, { ...home, delivery_radius_m: 2000 });
    const tag = randomUUID().slice(0, 8);
    const names = ['Apricot', 'Brioche', 'Challah', 'Danish', 'Eclair', 'Focaccia', 'Gingerbread'].map(
      (n) => `${n} ${tag}`,
    );
    for (const name of names)
      await receive(location, { productId: await createProduct(stack.db, { name }), quantity: 1 });

    const first = await availability({ ...home, limit: 3 });
    expect(first.body.items.map((i: { name: string }) => i.name)).toEqual(names.slice(0, 3));
    // New stock before the cursor does not shift what comes next; stock after it shows up in its place.
    await receive(location, { productId: await createProduct(stack.db, { name: `Almond ${tag}` }), quantity: 1 });
    await receive(location, { productId: await createProduct(stack.db, { name: `Doughnut ${tag}` }), quantity: 1 });
    const second = await availability({ ...home, limit: 3, cursor: first.body.nextCursor });
    expect(second.body.items.map((i: { name: string }) => i.name)).toEqual([names[3], `Doughnut ${tag}`, names[4]]);
    const third = await availability({ ...home, limit: 3, cursor: second.body.nextCursor });
    expect(third.body.items.map((i: { name: string }) => i.name)).toEqual(names.slice(5));
    expect(third.body.nextCursor).toBeNull();
    // The same cursor gives the same page again.
    expect((await availability({ ...home, limit: 3, cursor: first.body.nextCursor })).body).toEqual(second.body);
  });

  it('finds products by the words of their name', async () => {
    const home = quietArea();
    const location = await createLocation(stack.db, { ...home, delivery_radius_m: 2000 });
    for (const name of ['Butter croissant', 'Almond croissant', 'Seeded rye', '100% rye']) {
      await receive(location, { productId: await createProduct(stack.db, { name }), quantity: 1 });
    }
    const names = async (q: string) =>
      (await availability({ ...home, q })).body.items.map((i: { name: string }) => i.name);
    expect(await names('CROISS')).toEqual(['Almond croissant', 'Butter croissant']);
    expect(await names('croissant  butter')).toEqual(['Butter croissant']);
    expect(await names('100%')).toEqual(['100% rye']);
    expect(await names('%')).toEqual(['100% rye']);
    expect(await names('_')).toEqual([]);
    expect(await names('   ')).toHaveLength(4);
  });

  it('answers nearby nothing with an empty page, even at the oddest valid coordinates', async () => {
    const nowhere = quietArea();
    expect((await availability(nowhere)).body).toEqual({ items: [], nextCursor: null });
    for (const sort of ['name', 'price', 'distance'])
      expect((await availability({ ...nowhere, sort, facets: 'true' })).body).toEqual({
        items: [],
        nextCursor: null,
        facets: { categories: [], tags: [] },
      });
    for (const [lat, lng] of [
      [1e-320, -1e-320],
      [90, 180],
      [-90, -180],
      [0, 0],
    ]) {
      const res = await availability({ lat: lat!, lng: lng! });
      expect({ lat, lng, status: res.status }).toEqual({ lat, lng, status: 200 });
      expect((await stack.api('GET', `/v1/locations?lat=${lat}&lng=${lng}`)).status).toBe(200);
    }
  });

  it('refuses bad queries with a 400 naming the problem', async () => {
    const ok = { lat: -30, lng: -120 };
    const garbage = Buffer.from('{"not":"a cursor"}').toString('base64url');
    const badUuid = Buffer.from(JSON.stringify(['Bun', 'nope'])).toString('base64url');
    const cases: [Record<string, string | number>, string][] = [
      [{ ...ok, lat: 90.5 }, 'validation_failed'],
      [{ ...ok, lng: -200 }, 'validation_failed'],
      [{ ...ok, lat: 'abc' }, 'validation_failed'],
      [{ lat: -30 }, 'validation_failed'],
      [{ ...ok, limit: 0 }, 'validation_failed'],
      [{ ...ok, limit: 101 }, 'validation_failed'],
      [{ ...ok, limit: 2.5 }, 'validation_failed'],
      [{ ...ok, cursor: 'not a cursor!' }, 'validation_failed'],
      [{ ...ok, cursor: garbage }, 'invalid_cursor'],
      [{ ...ok, cursor: badUuid }, 'invalid_cursor'],
      [{ ...ok, cursor: 'abc' }, 'invalid_cursor'],
      [{ ...ok, q: 'x'.repeat(101) }, 'validation_failed'],
      [{ ...ok, q: 'a b c d e f g h i' }, 'too_many_words'],
      [{ ...ok, deliverBy: 'soon' }, 'validation_failed'],
      [{ ...ok, sort: 'rating' }, 'validation_failed'],
    ];
    for (const [query, error] of cases) {
      const res = await availability(query);
      expect({ query, status: res.status, error: res.body.error }).toEqual({ query, status: 400, error });
      expect(typeof res.body.message).toBe('string');
    }
  });
});

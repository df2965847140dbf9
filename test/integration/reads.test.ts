// Reading every resource back on the real stack: a location, the catalogue, order history, a location's stock, slot
// plan and production plans; pages that stay stable while orders arrive, refusals that name the field and write nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionScheduleId } from '../../src/schedules.js';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

type User = { id: string; token: string };

let stack: TestStack;
let locationId: string;
let otherLocationId: string;
let slotId: string;
let otherSlotId: string;
let bun: string;
let customer: User;
let otherCustomer: User;
let owner: User;
let otherOwner: User;
let driver: User;
let operator: User;
const schedules = new Set<string>();
const address = { lat: 51.5, lng: -0.1, line1: '1 Reading Row' };
/** A word no other test file's product names contain, so searches here see only this file's products. */
const WORD = `rd${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: 'Reading bakery' });
  otherLocationId = await createLocation(stack.db, { name: 'Other reading bakery' });
  slotId = await createSlot(stack.db, locationId, { capacity: 100 });
  otherSlotId = await createSlot(stack.db, otherLocationId, { capacity: 100 });
  bun = await createProduct(stack.db, { name: `${WORD} bun`, price_cents: 300 });
  customer = await createCustomer(stack);
  otherCustomer = await createCustomer(stack);
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  otherOwner = await createUser(stack.db, 'owner', { locationIds: [otherLocationId] });
  driver = await createUser(stack.db, 'driver');
  operator = await createUser(stack.db, 'operator');
  for (const [location, by] of [
    [locationId, owner],
    [otherLocationId, otherOwner],
  ] as const) {
    const stocked = await stack.api('POST', `/v1/locations/${location}/stock`, {
      token: by.token,
      body: { productId: bun, quantity: 200 },
    });
    expect(stocked.status).toBe(201);
  }
});

afterAll(async () => {
  // Schedules live on the shared dev server; leave none behind.
  for (const id of schedules)
    await stack?.client.schedule
      .getHandle(id)
      .delete()
      .catch(() => {});
  await stack?.stop();
});

const fieldsOf = (body: { details?: { field: string }[] }) => (body.details ?? []).map((d) => d.field);

async function placeOrder(by: User, at = locationId, slot = slotId, quantity = 1): Promise<any> {
  const placed = await stack.api('POST', '/v1/orders', {
    token: by.token,
    body: { locationId: at, slotId: slot, items: [{ productId: bun, quantity }], address },
  });
  expect(placed.status, JSON.stringify(placed.body)).toBe(201);
  return placed.body;
}

/** Every page of a list (from `cursor` on, when given), following nextCursor; fails on a loop. */
async function allPages(path: string, token?: string, from: string | null = null): Promise<any[]> {
  const items: any[] = [];
  let cursor = from;
  for (let pages = 0; pages < 50; pages++) {
    const url: string = cursor === null ? path : `${path}${path.includes('?') ? '&' : '?'}cursor=${cursor}`;
    const res = await stack.api('GET', url, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (cursor === null) return items;
  }
  throw new Error(`${path} never ended`);
}

/** A well-formed cursor holding parts the list never issues. */
const forgedCursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');

describe('a location', () => {
  it('is public: where it is, its kind, radius, time zone and hours, never its owners', async () => {
    const res = await stack.api('GET', `/v1/locations/${locationId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: locationId,
      name: 'Reading bakery',
      kind: 'bakery',
      lat: 51.5,
      lng: -0.1,
      deliveryRadiusM: 5000,
      opensAt: '00:00',
      closesAt: '23:59',
    });
    expect(Object.keys(res.body).sort()).toEqual(
      ['closesAt', 'createdAt', 'deliveryRadiusM', 'id', 'kind', 'lat', 'lng', 'name', 'opensAt', 'timezone'].sort(),
    );
    expect(JSON.stringify(res.body)).not.toContain(owner.id);
  });

  it('answers 404 for an unknown id and 400 naming the id for a malformed one', async () => {
    const missing = await stack.api('GET', `/v1/locations/${randomUUID()}`);
    expect([missing.status, missing.body]).toEqual([404, { error: 'not_found', message: 'Location not found' }]);
    const malformed = await stack.api('GET', '/v1/locations/not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(fieldsOf(malformed.body)).toEqual(['/params/id']);
  });
});

describe('the catalogue', () => {
  const names = ['apple', 'Banana', 'cherry', 'date', 'Elder'].map((n) => `${WORD} ${n} loaf`);
  let ids: string[];

  beforeAll(async () => {
    ids = [];
    for (const name of names) ids.push(await createProduct(stack.db, { name, price_cents: 200 }));
  });

  it('pages through the products whose names have every word, in name order ignoring case, each once', async () => {
    const items = await allPages(`/v1/products?q=${WORD}%20LOAF&limit=2`);
    expect(items.map((p) => p.name)).toEqual(names);
    expect(items.map((p) => p.id)).toEqual(ids);
    const first = await stack.api('GET', `/v1/products?q=${WORD}+loaf&limit=2`);
    expect(first.body.items).toHaveLength(2);
    expect(typeof first.body.nextCursor).toBe('string');
    // A word matches inside a name, and `%` matches itself, not everything.
    expect((await allPages(`/v1/products?q=${WORD}+herr`)).map((p) => p.name)).toEqual([names[2]]);
    expect(await allPages(`/v1/products?q=${WORD}+%25`)).toEqual([]);
  });

  it('reads one product, and answers 404 for an unknown one', async () => {
    const res = await stack.api('GET', `/v1/products/${ids[0]}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: ids[0],
      name: names[0],
      priceCents: 200,
      shelfLifeMinutes: 600,
      eodDiscountPercent: 0,
    });
    const missing = await stack.api('GET', `/v1/products/${randomUUID()}`);
    expect([missing.status, missing.body.error]).toEqual([404, 'not_found']);
  });

  it('refuses a page larger than the maximum, a malformed or forged cursor and an unknown filter, naming each', async () => {
    const cases: [string, string, string][] = [
      ['/v1/products?limit=101', 'validation_failed', '/querystring/limit'],
      ['/v1/products?limit=0', 'validation_failed', '/querystring/limit'],
      ['/v1/products?cursor=%25%25', 'validation_failed', '/querystring/cursor'],
      ['/v1/products?cursor=bm90LWpzb24', 'invalid_cursor', '/querystring/cursor'],
      [`/v1/products?cursor=${forgedCursor(['x', 'not-a-uuid'])}`, 'invalid_cursor', '/querystring/cursor'],
      ['/v1/products?category=bread', 'validation_failed', '/querystring'],
    ];
    for (const [url, error, field] of cases) {
      const res = await stack.api('GET', url);
      expect([res.status, res.body.error], url).toEqual([400, error]);
      expect(fieldsOf(res.body).join(' '), url).toContain(field);
      expect(res.body.message, url).toMatch(/querystring/);
    }
  });
});

describe('changing a product', () => {
  it('lets owners and operators change what they send, and keeps the rest', async () => {
    const id = await createProduct(stack.db, { name: `${WORD} plain roll`, price_cents: 150 });
    const renamed = await stack.api('PATCH', `/v1/products/${id}`, {
      token: owner.token,
      body: { name: `  ${WORD} seeded roll `, eodDiscountPercent: 40 },
    });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body).toMatchObject({ name: `${WORD} seeded roll`, priceCents: 150, eodDiscountPercent: 40 });
    const byOperator = await stack.api('PATCH', `/v1/products/${id}`, {
      token: operator.token,
      body: { shelfLifeMinutes: 90, description: 'With sesame' },
    });
    expect(byOperator.body).toMatchObject({ shelfLifeMinutes: 90, description: 'With sesame', eodDiscountPercent: 40 });
    expect((await stack.api('GET', `/v1/products/${id}`)).body).toEqual(byOperator.body);
  });

  it('refuses an empty or invalid change, naming the field, and writes nothing', async () => {
    const id = await createProduct(stack.db, { name: `${WORD} untouched`, price_cents: 150 });
    const before = (await stack.api('GET', `/v1/products/${id}`)).body;
    const cases: [unknown, string][] = [
      [{}, '/body'],
      [{ name: 'New name', priceCents: -1 }, '/body/priceCents'],
      [{ name: '   ' }, '/body/name'],
      [{ shelfLifeMinutes: 0 }, '/body/shelfLifeMinutes'],
      [{ eodDiscountPercent: 101 }, '/body/eodDiscountPercent'],
      [{ priceCents: 100, id: randomUUID() }, '/body'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.api('PATCH', `/v1/products/${id}`, { token: owner.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fieldsOf(res.body), JSON.stringify(body)).toContain(field);
    }
    expect((await stack.api('GET', `/v1/products/${id}`)).body).toEqual(before);
    const missing = await stack.api('PATCH', `/v1/products/${randomUUID()}`, {
      token: owner.token,
      body: { priceCents: 100 },
    });
    expect([missing.status, missing.body.error]).toEqual([404, 'not_found']);
    for (const who of [customer, driver]) {
      const refused = await stack.api('PATCH', `/v1/products/${id}`, { token: who.token, body: { priceCents: 1 } });
      expect(refused.status).toBe(403);
    }
    expect((await stack.api('GET', `/v1/products/${id}`)).body).toEqual(before);
  });

  it('charges a new price to new orders only: an order placed before keeps its prices and total', async () => {
    const loaf = await createProduct(stack.db, { name: `${WORD} priced loaf`, price_cents: 400 });
    expect(
      (
        await stack.api('POST', `/v1/locations/${locationId}/stock`, {
          token: owner.token,
          body: { productId: loaf, quantity: 20 },
        })
      ).status,
    ).toBe(201);
    const order = async () => {
      const placed = await stack.api('POST', '/v1/orders', {
        token: customer.token,
        body: { locationId, slotId, items: [{ productId: loaf, quantity: 2 }], address },
      });
      expect(placed.status, JSON.stringify(placed.body)).toBe(201);
      return placed.body.id as string;
    };
    const earlier = await order();
    // Changed before or after the bank approves the earlier order (its approval settles the line amounts): either way
    // the order keeps what it was placed at.
    const patched = await stack.api('PATCH', `/v1/products/${loaf}`, { token: owner.token, body: { priceCents: 650 } });
    expect(patched.body.priceCents).toBe(650);
    const confirmed = await eventually(
      () => stack.api('GET', `/v1/orders/${earlier}`, { token: customer.token }),
      (r) => r.body.status === 'confirmed',
    );
    expect(confirmed.body.status).toBe('confirmed');
    expect(confirmed.body.totalCents).toBe(800);
    expect(confirmed.body.items).toEqual([{ productId: loaf, quantity: 2, unitPriceCents: 400 }]);

    const later = (await stack.api('GET', `/v1/orders/${await order()}`, { token: customer.token })).body;
    expect(later.totalCents).toBe(1300);
    expect(later.items).toEqual([{ productId: loaf, quantity: 2, unitPriceCents: 650 }]);
  });
});

describe('order history', () => {
  let mine: string[];
  let theirs: string;

  beforeAll(async () => {
    mine = [];
    for (let i = 0; i < 5; i++) mine.push((await placeOrder(customer, locationId, slotId, 1)).id);
    theirs = (await placeOrder(otherCustomer, otherLocationId, otherSlotId)).id;
  });

  it('shows a customer only their own orders, newest first, with the summary of each', async () => {
    const items = await allPages('/v1/orders?limit=2', customer.token);
    expect(items.every((o) => o.customerId === customer.id)).toBe(true);
    const ids = items.map((o) => o.id);
    expect(ids).not.toContain(theirs);
    // Newest first: the five placed last come first, latest at the top.
    expect(ids.slice(0, 5)).toEqual([...mine].reverse());
    const times = items.map((o) => o.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(new Set(ids).size).toBe(ids.length);
    const one = items[0];
    expect(one).toMatchObject({
      id: mine[4],
      number: mine[4]!.replace(/-/g, '').slice(0, 4).toUpperCase(),
      locationId,
      slotId,
      totalCents: 300,
      items: [{ productId: bun, quantity: 1, unitPriceCents: 300 }],
    });
    expect(typeof one.slotStartsAt).toBe('string');
    const other = await allPages('/v1/orders', otherCustomer.token);
    expect(other.map((o) => o.id)).toEqual([theirs]);
  });

  it('keeps its pages stable while new orders arrive: nothing seen twice, nothing skipped', async () => {
    const first = await stack.api('GET', '/v1/orders?limit=3', { token: customer.token });
    const before = await allPages('/v1/orders', customer.token);
    const arrived = (await placeOrder(customer)).id;
    const rest = await allPages('/v1/orders?limit=3', customer.token, first.body.nextCursor);
    const seen = [...first.body.items, ...rest].map((o) => o.id);
    expect(seen).toEqual(before.map((o) => o.id));
    expect(seen).not.toContain(arrived);
    expect((await stack.api('GET', '/v1/orders?limit=1', { token: customer.token })).body.items[0].id).toBe(arrived);
  });

  it('shows an owner their locations’ orders, an operator every order, and filters by location and status', async () => {
    const ofOwner = await allPages('/v1/orders?limit=100', owner.token);
    expect(ofOwner.every((o) => o.locationId === locationId)).toBe(true);
    expect(ofOwner.map((o) => o.id)).toEqual(expect.arrayContaining(mine));
    expect((await allPages('/v1/orders', otherOwner.token)).map((o) => o.id)).toEqual([theirs]);
    // Another location's filter narrows to nothing rather than reveal whether it has orders.
    expect(await allPages(`/v1/orders?locationId=${otherLocationId}`, owner.token)).toEqual([]);

    const atOther = await allPages(`/v1/orders?locationId=${otherLocationId}`, operator.token);
    expect(atOther.map((o) => o.id)).toEqual([theirs]);
    const all = await allPages('/v1/orders?limit=100', operator.token);
    expect(all.map((o) => o.id)).toEqual(expect.arrayContaining([...mine, theirs]));

    await eventually(
      () => stack.api('GET', `/v1/orders/${theirs}`, { token: otherCustomer.token }),
      (r) => r.body.status === 'confirmed',
    );
    const confirmed = await allPages(`/v1/orders?status=confirmed&locationId=${otherLocationId}`, operator.token);
    expect(confirmed.map((o) => [o.id, o.status])).toEqual([[theirs, 'confirmed']]);
    expect(await allPages(`/v1/orders?status=cancelled&locationId=${otherLocationId}`, operator.token)).toEqual([]);
  });

  it('is not for drivers, and refuses bad filters, pages and cursors naming the field', async () => {
    expect((await stack.api('GET', '/v1/orders', { token: driver.token })).status).toBe(403);
    expect((await stack.api('GET', '/v1/orders')).status).toBe(401);
    const cases: [string, string, string][] = [
      ['/v1/orders?status=baking', 'validation_failed', '/querystring/status'],
      ['/v1/orders?locationId=somewhere', 'validation_failed', '/querystring/locationId'],
      ['/v1/orders?limit=101', 'validation_failed', '/querystring/limit'],
      ['/v1/orders?customerId=x', 'validation_failed', '/querystring'],
      ['/v1/orders?cursor=AAAA', 'invalid_cursor', '/querystring/cursor'],
      [`/v1/orders?cursor=${forgedCursor(['yesterday', randomUUID()])}`, 'invalid_cursor', '/querystring/cursor'],
    ];
    for (const [url, error, field] of cases) {
      const res = await stack.api('GET', url, { token: customer.token });
      expect([res.status, res.body.error], url).toEqual([400, error]);
      expect(fieldsOf(res.body).join(' '), url).toContain(field);
    }
  });
});

describe('a location’s stock', () => {
  let rye: string;
  let lots: number[];

  beforeAll(async () => {
    rye = await createProduct(stack.db, { name: `${WORD} rye`, price_cents: 500, shelf_life_minutes: 24 * 60 });
    lots = [];
    for (const quantity of [3, 4, 5]) {
      const res = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
        token: owner.token,
        body: { productId: rye, quantity, producedAt: new Date(Date.now() - 60_000).toISOString() },
      });
      expect(res.status).toBe(201);
      lots.push(res.body.id);
    }
  });

  it('lists its lots newest first with their times and counts, page by page, and by product', async () => {
    const ofRye = await allPages(`/v1/locations/${locationId}/stock?productId=${rye}&limit=2`, owner.token);
    expect(ofRye.map((l) => l.id)).toEqual([...lots].reverse());
    expect(ofRye[0]).toMatchObject({
      locationId,
      productId: rye,
      quantity: 5,
      available: 5,
      reserved: 0,
      sold: 0,
      discarded: 0,
    });
    expect(Date.parse(ofRye[0].expiresAt) - Date.parse(ofRye[0].producedAt)).toBe(24 * 3_600_000);

    const everything = await allPages(`/v1/locations/${locationId}/stock?limit=100`, operator.token);
    expect(everything.map((l) => l.productId)).toEqual(expect.arrayContaining([bun, rye]));
    expect(everything.every((l) => l.locationId === locationId)).toBe(true);
    const bunLot = everything.find((l) => l.productId === bun);
    // The orders above took units of the bun lot; every unit is somewhere.
    expect(bunLot.reserved + bunLot.sold).toBeGreaterThan(0);
    expect(bunLot.available + bunLot.reserved + bunLot.sold + bunLot.discarded).toBe(bunLot.quantity);
  });

  it('is its owners’ and operators’ business: anyone else gets 404, as for a missing location', async () => {
    const theirs = await stack.api('GET', `/v1/locations/${locationId}/stock`, { token: otherOwner.token });
    const nobodys = await stack.api('GET', `/v1/locations/${randomUUID()}/stock`, { token: otherOwner.token });
    expect([theirs.status, theirs.body]).toEqual([404, nobodys.body]);
    const missing = await stack.api('GET', `/v1/locations/${randomUUID()}/stock`, { token: operator.token });
    expect([missing.status, missing.body.error]).toEqual([404, 'not_found']);
    expect((await stack.api('GET', `/v1/locations/${locationId}/stock`, { token: customer.token })).status).toBe(403);
    for (const [query, error, field] of [
      ['limit=101', 'validation_failed', '/querystring/limit'],
      ['productId=rye', 'validation_failed', '/querystring/productId'],
      ['cursor=WyJ4Il0', 'invalid_cursor', '/querystring/cursor'],
      [`cursor=${forgedCursor([-4])}`, 'invalid_cursor', '/querystring/cursor'],
    ]) {
      const res = await stack.api('GET', `/v1/locations/${locationId}/stock?${query}`, { token: owner.token });
      expect([res.status, res.body.error], query).toEqual([400, error]);
      expect(fieldsOf(res.body).join(' '), query).toContain(field);
    }
  });
});

describe('a location’s weekly slot plan', () => {
  it('reads back what its owner set, by weekday and start', async () => {
    const templates = [
      { weekday: 3, start: '18:00', end: '19:00', capacity: 5, cutoffMinutes: 30 },
      { weekday: 1, start: '12:00', end: '13:00', capacity: 10, cutoffMinutes: 15 },
      { weekday: 1, start: '09:00', end: '10:00', capacity: 8, cutoffMinutes: 0 },
    ];
    const put = await stack.api('PUT', `/v1/locations/${otherLocationId}/slot-templates`, {
      token: otherOwner.token,
      body: templates,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const read = await stack.api('GET', `/v1/locations/${otherLocationId}/slot-templates`, { token: otherOwner.token });
    expect(read.status).toBe(200);
    expect(read.body.templates).toEqual([templates[2], templates[1], templates[0]]);
    const byOperator = await stack.api('GET', `/v1/locations/${otherLocationId}/slot-templates`, {
      token: operator.token,
    });
    expect(byOperator.body).toEqual(read.body);
    const none = await stack.api('GET', `/v1/locations/${locationId}/slot-templates`, { token: owner.token });
    expect(none.body).toEqual({ templates: [] });
  });

  it('is 404 to other owners and for unknown locations, 403 to other roles', async () => {
    const theirs = await stack.api('GET', `/v1/locations/${otherLocationId}/slot-templates`, { token: owner.token });
    const nobodys = await stack.api('GET', `/v1/locations/${randomUUID()}/slot-templates`, { token: operator.token });
    expect([theirs.status, theirs.body]).toEqual([404, nobodys.body]);
    expect(
      (await stack.api('GET', `/v1/locations/${otherLocationId}/slot-templates`, { token: driver.token })).status,
    ).toBe(403);
  });
});

describe('a location’s production plans', () => {
  it('reads back each plan with its quantity, interval and next run, and drops a stopped one', async () => {
    const [croissant, baguette] = [
      await createProduct(stack.db, { name: `${WORD} croissant` }),
      await createProduct(stack.db, { name: `${WORD} baguette` }),
    ];
    for (const [product, everyMinutes, quantity] of [
      [croissant, 1440, 12],
      [baguette, 720, 30],
    ] as const) {
      schedules.add(productionScheduleId(locationId, product));
      const put = await stack.api('PUT', `/v1/locations/${locationId}/production/${product}`, {
        token: owner.token,
        body: { everyMinutes, quantity },
      });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    // A plan changed after it was made reads back as it is now.
    await stack.api('PUT', `/v1/locations/${locationId}/production/${baguette}`, {
      token: owner.token,
      body: { everyMinutes: 720, quantity: 36 },
    });
    const plans = async () =>
      (await stack.api('GET', `/v1/locations/${locationId}/production`, { token: owner.token })).body.plans as any[];
    // Temporal's list of Schedules follows a change within a moment.
    const listed = await eventually(plans, (p) => p.length === 2 && p.some((x) => x.quantity === 36));
    const byProduct = new Map(listed.map((p) => [p.productId, p]));
    expect(byProduct.get(croissant)).toMatchObject({
      locationId,
      everyMinutes: 1440,
      quantity: 12,
      scheduleId: productionScheduleId(locationId, croissant),
      lastRunAt: null,
      paused: false,
    });
    expect(byProduct.get(baguette)).toMatchObject({ everyMinutes: 720, quantity: 36 });
    for (const plan of listed) {
      expect(Date.parse(plan.nextRunAt)).toBeGreaterThan(Date.now() - 1000);
      expect(Date.parse(plan.nextRunAt)).toBeLessThanOrEqual(Date.now() + plan.everyMinutes * 60_000 + 1000);
    }
    const byOperator = await stack.api('GET', `/v1/locations/${locationId}/production`, { token: operator.token });
    expect(byOperator.body.plans.map((p: any) => p.productId).sort()).toEqual([croissant, baguette].sort());
    expect(
      (await stack.api('GET', `/v1/locations/${otherLocationId}/production`, { token: operator.token })).body,
    ).toEqual({ plans: [] });

    const stopped = await stack.api('DELETE', `/v1/locations/${locationId}/production/${croissant}`, {
      token: owner.token,
    });
    expect(stopped.status).toBe(204);
    const after = await eventually(plans, (p) => p.length === 1);
    expect(after.map((p) => p.productId)).toEqual([baguette]);
  });

  it('is 404 to other owners and for unknown locations, 403 to other roles', async () => {
    const theirs = await stack.api('GET', `/v1/locations/${locationId}/production`, { token: otherOwner.token });
    const nobodys = await stack.api('GET', `/v1/locations/${randomUUID()}/production`, { token: operator.token });
    expect([theirs.status, theirs.body]).toEqual([404, nobodys.body]);
    expect((await stack.api('GET', `/v1/locations/${locationId}/production`, { token: customer.token })).status).toBe(
      403,
    );
  });
});

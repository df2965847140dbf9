// Searching with properties on the real stack: the categories operators keep, products' categories and tags, and
// availability filtered by category, tags and price, sorted by name, price or distance, with its facets.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStockLotRepository } from '../../src/db/repositories/stock-lots.js';
import { seedDemo, DEMO_USERS, type DemoData } from '../../src/db/seed.js';
import { createLocation, createUser, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let operator: { id: string; token: string };
let owner: { id: string; token: string };
let customer: { id: string; token: string };

const HOUR = 3_600_000;

beforeAll(async () => {
  stack = await startTestStack();
  operator = await createUser(stack.db, 'operator');
  owner = await createUser(stack.db, 'owner');
  customer = await createUser(stack.db, 'customer');
});

afterAll(async () => {
  await stack?.stop();
});

/** A random patch of the South Atlantic, so no other test's locations reach it. */
const quietArea = () => ({ lat: -50 + Math.random() * 30, lng: -40 + Math.random() * 30 });
const north = (from: { lat: number; lng: number }, metres: number) => ({
  lat: from.lat + metres / 111_195,
  lng: from.lng,
});

async function newCategory(name = `Category ${randomUUID()}`): Promise<{ id: string; name: string }> {
  const res = await stack.api('POST', '/v1/categories', { token: operator.token, body: { name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function newProduct(body: Record<string, unknown>): Promise<string> {
  const res = await stack.api('POST', '/v1/products', {
    token: operator.token,
    body: { shelfLifeMinutes: 600, priceCents: 300, ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Availability with its facets, which are counted only when asked for. */
const availability = (query: string) => stack.api('GET', `/v1/availability?${query}&facets=true`);

describe('categories', () => {
  it('are listed for anyone, added and removed by operators, names unique', async () => {
    const name = `Bread ${randomUUID()}`;
    const bread = await newCategory(`  ${name} `);
    expect(bread).toMatchObject({ name, createdAt: expect.any(String) });
    const listed = await stack.api('GET', '/v1/categories');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toContainEqual(bread);

    const again = await stack.api('POST', '/v1/categories', { token: operator.token, body: { name } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'category_exists', message: expect.stringContaining(name) });
    for (const token of [owner.token, customer.token])
      expect((await stack.api('POST', '/v1/categories', { token, body: { name: 'Mine' } })).status).toBe(403);
    expect((await stack.api('POST', '/v1/categories', { body: { name: 'Mine' } })).status).toBe(401);
    expect((await stack.api('POST', '/v1/categories', { token: operator.token, body: { name: ' ' } })).status).toBe(
      400,
    );

    expect((await stack.api('DELETE', `/v1/categories/${bread.id}`, { token: owner.token })).status).toBe(403);
    expect((await stack.api('DELETE', `/v1/categories/${bread.id}`, { token: operator.token })).status).toBe(204);
    expect((await stack.api('GET', '/v1/categories')).body.items).not.toContainEqual(bread);
    const gone = await stack.api('DELETE', `/v1/categories/${bread.id}`, { token: operator.token });
    expect(gone.status).toBe(404);
  });

  it('cannot be removed while a product is in it', async () => {
    const cakes = await newCategory();
    const productId = await newProduct({ name: 'Carrot cake', categoryId: cakes.id });
    const refused = await stack.api('DELETE', `/v1/categories/${cakes.id}`, { token: operator.token });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'category_in_use', message: expect.any(String) });
    const moved = await stack.api('PATCH', `/v1/products/${productId}`, {
      token: owner.token,
      body: { categoryId: null },
    });
    expect(moved.body.category).toBeNull();
    expect((await stack.api('DELETE', `/v1/categories/${cakes.id}`, { token: operator.token })).status).toBe(204);
  });
});

describe('products with a category and tags', () => {
  it('are created and changed with them, and read back with the category named', async () => {
    const bread = await newCategory();
    const pastry = await newCategory();
    const created = await stack.api('POST', '/v1/products', {
      token: owner.token,
      body: { name: 'Spelt loaf', priceCents: 500, shelfLifeMinutes: 2880, categoryId: bread.id, tags: ['vegan'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ category: { id: bread.id, name: bread.name }, tags: ['vegan'] });
    const id = created.body.id as string;

    const changed = await stack.api('PATCH', `/v1/products/${id}`, {
      token: operator.token,
      body: { categoryId: pastry.id, tags: ['vegan', 'organic'] },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ category: { id: pastry.id, name: pastry.name }, tags: ['vegan', 'organic'] });
    expect((await stack.api('GET', `/v1/products/${id}`)).body).toEqual(changed.body);
    const listed = await stack.api('GET', `/v1/products?q=${encodeURIComponent('spelt loaf')}&limit=100`);
    expect(listed.body.items).toContainEqual(changed.body);

    // A product without either says so.
    const plain = await newProduct({ name: 'Plain roll' });
    expect((await stack.api('GET', `/v1/products/${plain}`)).body).toMatchObject({ category: null, tags: [] });
  });

  it('refuses an unknown category with 422 naming the field, and an unknown tag with 400', async () => {
    const unknown = randomUUID();
    const body = { name: `Refused ${randomUUID()}`, priceCents: 100, shelfLifeMinutes: 60 };
    const created = await stack.api('POST', '/v1/products', {
      token: operator.token,
      body: { ...body, categoryId: unknown },
    });
    expect(created.status).toBe(422);
    expect(created.body).toMatchObject({ error: 'unknown_category', message: expect.stringContaining('categoryId') });
    expect(created.body.message).toContain(unknown);
    const badTag = await stack.api('POST', '/v1/products', {
      token: operator.token,
      body: { ...body, tags: ['keto'] },
    });
    expect(badTag.status).toBe(400);
    expect(badTag.body.message).toContain('tags');
    const twice = await stack.api('POST', '/v1/products', {
      token: operator.token,
      body: { ...body, tags: ['vegan', 'vegan'] },
    });
    expect(twice.status).toBe(400);
    expect(await stack.db('products').where({ name: body.name }).first()).toBeUndefined();

    const id = await newProduct({ name: 'Kept as it was', tags: ['halal'] });
    const patched = await stack.api('PATCH', `/v1/products/${id}`, {
      token: operator.token,
      body: { categoryId: unknown, tags: [] },
    });
    expect(patched.status).toBe(422);
    expect(patched.body.error).toBe('unknown_category');
    expect((await stack.api('GET', `/v1/products/${id}`)).body).toMatchObject({ category: null, tags: ['halal'] });
    const badPatch = await stack.api('PATCH', `/v1/products/${id}`, { token: operator.token, body: { tags: ['x'] } });
    expect(badPatch.status).toBe(400);
  });
});

describe('GET /v1/availability with filters, sorts and facets', () => {
  let area: { lat: number; lng: number };
  let near: string;
  let far: string;
  let bread: { id: string; name: string };
  let pastry: { id: string; name: string };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    area = quietArea();
    near = await createLocation(stack.db, { ...area, name: 'Near bakery', delivery_radius_m: 5000 });
    far = await createLocation(stack.db, { ...north(area, 3000), name: 'Far bakery', delivery_radius_m: 5000 });
    bread = await newCategory();
    pastry = await newCategory();
    const products: [name: string, priceCents: number, categoryId: string | null, tags: string[], at: string][] = [
      ['Almond croissant', 420, pastry.id, ['vegetarian', 'contains_nuts'], far],
      ['Baguette', 250, bread.id, ['vegan', 'dairy_free'], far],
      ['Cheese scone', 300, null, ['vegetarian'], near],
      ['Danish', 380, pastry.id, ['vegetarian'], near],
      ['Einkorn loaf', 600, bread.id, ['vegan', 'organic', 'dairy_free'], near],
      ['Focaccia', 300, bread.id, ['vegan'], far],
    ];
    const now = new Date();
    for (const [name, priceCents, categoryId, tags, at] of products) {
      ids[name] = await newProduct({ name, priceCents, categoryId, tags });
      await createStockLotRepository(stack.db).receiveLot(
        { locationId: at, productId: ids[name], quantity: 5, expiresAt: new Date(now.getTime() + 5 * HOUR) },
        now,
      );
    }
  });

  const point = () => `lat=${area.lat}&lng=${area.lng}`;
  const names = (body: { items: { name: string }[] }) => body.items.map((i) => i.name);

  /** Every page of a query, following the cursor. */
  async function allPages(query: string, limit: number): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 20; n++) {
      const res = await availability(`${point()}&${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      seen.push(...names(res.body));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    return seen;
  }

  it('counts facets only when asked', async () => {
    const plain = await stack.api('GET', `/v1/availability?${point()}`);
    expect(plain.status).toBe(200);
    expect(plain.body.items.length).toBeGreaterThan(0);
    expect(plain.body).not.toHaveProperty('facets');
  });

  it('is in name order by default, and counts facets over everything nearby', async () => {
    const res = await availability(point());
    expect(names(res.body)).toEqual([
      'Almond croissant',
      'Baguette',
      'Cheese scone',
      'Danish',
      'Einkorn loaf',
      'Focaccia',
    ]);
    expect(res.body.facets).toEqual({
      categories: [
        { id: bread.id, name: bread.name, count: 3 },
        { id: pastry.id, name: pastry.name, count: 2 },
      ],
      // Most first; ties in the vocabulary's order.
      tags: [
        { tag: 'vegan', count: 3 },
        { tag: 'vegetarian', count: 3 },
        { tag: 'dairy_free', count: 2 },
        { tag: 'contains_nuts', count: 1 },
        { tag: 'organic', count: 1 },
      ],
    });
  });

  it('keeps only what every filter allows, with the facets still of the unfiltered result', async () => {
    const all = (await availability(point())).body.facets;
    const byCategory = await availability(`${point()}&category=${bread.id}`);
    expect(names(byCategory.body)).toEqual(['Baguette', 'Einkorn loaf', 'Focaccia']);
    expect(byCategory.body.facets).toEqual(all);
    expect(names((await availability(`${point()}&tags=vegan,dairy_free`)).body)).toEqual(['Baguette', 'Einkorn loaf']);
    expect(names((await availability(`${point()}&tags=vegan&tags=dairy_free`)).body)).toEqual([
      'Baguette',
      'Einkorn loaf',
    ]);
    expect(names((await availability(`${point()}&tags=vegetarian`)).body)).toEqual([
      'Almond croissant',
      'Cheese scone',
      'Danish',
    ]);
    expect(names((await availability(`${point()}&maxPriceCents=300`)).body)).toEqual([
      'Baguette',
      'Cheese scone',
      'Focaccia',
    ]);
    const everything = await availability(`${point()}&category=${pastry.id}&tags=vegetarian&maxPriceCents=400`);
    expect(names(everything.body)).toEqual(['Danish']);
    // The search words narrow the facets too: they are part of the result, not a filter on it.
    const searched = await availability(`${point()}&q=loaf`);
    expect(searched.body.facets).toEqual({
      categories: [{ id: bread.id, name: bread.name, count: 1 }],
      tags: [
        { tag: 'vegan', count: 1 },
        { tag: 'dairy_free', count: 1 },
        { tag: 'organic', count: 1 },
      ],
    });
    expect(names((await availability(`${point()}&category=${randomUUID()}`)).body)).toEqual([]);
  });

  it('sorts by list price or by the nearest stocking location, paging each with a stable cursor', async () => {
    // Ties in price and distance go by name.
    const byPrice = ['Baguette', 'Cheese scone', 'Focaccia', 'Danish', 'Almond croissant', 'Einkorn loaf'];
    const byDistance = ['Cheese scone', 'Danish', 'Einkorn loaf', 'Almond croissant', 'Baguette', 'Focaccia'];
    expect(names((await availability(`${point()}&sort=price`)).body)).toEqual(byPrice);
    expect(names((await availability(`${point()}&sort=distance`)).body)).toEqual(byDistance);
    expect(names((await availability(`${point()}&sort=name`)).body)).toEqual([...byPrice].sort());
    for (const limit of [1, 2, 4]) {
      expect(await allPages('sort=price', limit)).toEqual(byPrice);
      expect(await allPages('sort=distance', limit)).toEqual(byDistance);
      expect(await allPages('sort=price&tags=vegan', limit)).toEqual(['Baguette', 'Focaccia', 'Einkorn loaf']);
    }

    // A cursor continues the sort it came from, and no other.
    const first = await availability(`${point()}&sort=price&limit=2`);
    const cursor = first.body.nextCursor as string;
    const crossed = await availability(`${point()}&sort=distance&limit=2&cursor=${cursor}`);
    expect(crossed.status).toBe(400);
    expect(crossed.body.error).toBe('invalid_cursor');
    expect((await availability(`${point()}&limit=2&cursor=${cursor}`)).body.error).toBe('invalid_cursor');

    // Stock selling out behind the cursor moves nothing still to come.
    expect(names(first.body)).toEqual(['Baguette', 'Cheese scone']);
    await stack
      .db('stock_lots')
      .where({ product_id: ids['Baguette'] })
      .update({ available: 0, discarded: 5, free_units: '{}', discarded_units: '{[0,5)}' });
    const next = await availability(`${point()}&sort=price&limit=2&cursor=${cursor}`);
    expect(names(next.body)).toEqual(['Focaccia', 'Danish']);
  });

  it('refuses bad filters with a 400 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['maxPriceCents=-1', 'maxPriceCents'],
      ['maxPriceCents=1.5', 'maxPriceCents'],
      ['tags=vegan,keto', 'tags'],
      ['category=bread', 'category'],
      ['sort=rating', 'sort'],
    ];
    for (const [query, field] of cases) {
      const res = await availability(`${point()}&${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.message, query).toContain(field);
    }
  });
});

describe('the demo seed', () => {
  it('puts the demo products in categories with tags, and keeps them on every start', async () => {
    const demo: DemoData = {
      locationId: randomUUID(),
      users: Object.fromEntries(
        DEMO_USERS.map((name) => [name, { id: randomUUID(), token: `demo_${randomUUID()}` }]),
      ) as DemoData['users'],
    };
    const productIds = await seedDemo(stack.db, demo);
    await seedDemo(stack.db, demo);
    for (const id of productIds) {
      const product = (await stack.api('GET', `/v1/products/${id}`)).body;
      expect(product.category, product.name).toMatchObject({ name: expect.any(String) });
      expect(product.tags.length, product.name).toBeGreaterThan(0);
    }
    const categories = (await stack.api('GET', '/v1/categories')).body.items.map((c: { name: string }) => c.name);
    expect(categories).toEqual(expect.arrayContaining(['Bread', 'Pastry', 'Cake']));
  });
});

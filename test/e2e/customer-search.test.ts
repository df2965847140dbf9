// The customer page in a real browser on a phone-sized screen: searching by category, dietary tags, price and sort
// with the counts beside each choice, kept across a reload; a collection order from the page through ready for
// collection to collected; new slots and stock changes shown live, a sold-out item greyed out in its place.
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { slotPlannerWorkflow } from '../../workflows/slot.js';
import { launchBrowser, logIn, pageErrors, phone, screenshot } from '../support/browser.js';
import {
  createCustomer,
  createLocation,
  createSlot,
  createUser,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

let stack: TestStack;
let browser: Browser;
let locationId: string;
let slotId: string;
let owner: { id: string; token: string };
let bread: { id: string; name: string };
let pastry: { id: string; name: string };
const ids: Record<string, string> = {};

// A spot no other location in this database delivers to, so the customer sees exactly one shop.
const HOME = { lat: 38.7223, lng: -9.1393 };
const SHOP = 'Baixa Padaria';
const STEP_MS = 15_000;

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: SHOP, ...HOME, delivery_radius_m: 5000 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId], name: 'Olga Owner' });
  const operator = await createUser(stack.db, 'operator');
  const category = async (name: string) => {
    const res = await stack.api('POST', '/v1/categories', { token: operator.token, body: { name } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; name: string };
  };
  bread = await category('Bread');
  pastry = await category('Pastry');
  const products: [name: string, priceCents: number, categoryId: string, tags: string[]][] = [
    ['Almond croissant', 420, pastry.id, ['vegetarian', 'contains_nuts']],
    ['Baguette', 250, bread.id, ['vegan', 'dairy_free']],
    ['Danish', 380, pastry.id, ['vegetarian']],
    ['Einkorn loaf', 600, bread.id, ['vegan', 'organic', 'dairy_free']],
    ['Focaccia', 300, bread.id, ['vegan']],
  ];
  for (const [name, priceCents, categoryId, tags] of products) {
    const created = await stack.api('POST', '/v1/products', {
      token: operator.token,
      body: { name, priceCents, shelfLifeMinutes: 600, categoryId, tags },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    ids[name] = created.body.id;
    const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId: created.body.id, quantity: 10 },
    });
    expect(stocked.status, JSON.stringify(stocked.body)).toBe(201);
  }
  slotId = await createSlot(stack.db, locationId, { startsInMs: 2 * 3_600_000, capacity: 5 });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function markLoaded(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { loadMark: number }).loadMark = 1;
  });
}
async function stillSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { loadMark?: number }).loadMark === 1);
}
/** Nothing is wider than the phone's screen. */
async function fitsTheScreen(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

/** The item names the page lists, in its order. */
const listed = (page: Page) =>
  page.locator('#products li.product .name').evaluateAll((els) => els.map((el) => el.firstChild?.textContent ?? ''));

/** Opens the page as a new customer with a funded bank account, at the shop. */
async function openShop(): Promise<Page> {
  const customer = await createCustomer(stack);
  const { page } = await phone(browser);
  await page.goto(`${stack.baseUrl}/order?lat=${HOME.lat}&lng=${HOME.lng}`);
  await logIn(page, customer.token);
  await page.getByRole('button', { name: 'Find shops' }).click();
  await page.locator(`[data-location-id="${locationId}"][aria-pressed="true"]`).waitFor({ timeout: STEP_MS });
  return page;
}

it('narrows the items by category, dietary tags, price and sort, shows the counts beside each, and keeps them on reload', async () => {
  const page = await openShop();
  await expect
    .poll(() => listed(page), { timeout: STEP_MS })
    .toEqual(['Almond croissant', 'Baguette', 'Danish', 'Einkorn loaf', 'Focaccia']);

  // The counts are of everything nearby, whichever filters are set.
  const category = page.locator('#filters select[name=category]');
  await expect
    .poll(() => category.locator('option').allTextContents())
    .toEqual(['All categories', 'Bread (3)', 'Pastry (2)']);
  const tagCount = (tag: string) => page.locator(`#filters [data-tag="${tag}"] .count`).textContent();
  expect(await tagCount('vegan')).toBe('3');
  expect(await tagCount('vegetarian')).toBe('2');
  expect(await tagCount('dairy_free')).toBe('2');
  expect(await tagCount('contains_nuts')).toBe('1');
  expect(await tagCount('halal')).toBe('0');

  await category.selectOption(bread.id);
  await expect.poll(() => listed(page), { timeout: STEP_MS }).toEqual(['Baguette', 'Einkorn loaf', 'Focaccia']);
  await page.locator('#filters [data-tag="dairy_free"]').click();
  await expect.poll(() => listed(page), { timeout: STEP_MS }).toEqual(['Baguette', 'Einkorn loaf']);
  await page.locator('#filters [data-tag="vegan"]').click();
  await expect.poll(() => listed(page), { timeout: STEP_MS }).toEqual(['Baguette', 'Einkorn loaf']);
  const price = page.locator('#filters input[name=maxPrice]');
  await price.fill('3');
  await price.press('Enter');
  await expect.poll(() => listed(page), { timeout: STEP_MS }).toEqual(['Baguette']);
  expect(await category.locator('option').allTextContents()).toEqual(['All categories', 'Bread (3)', 'Pastry (2)']);
  expect(await tagCount('vegan')).toBe('3');
  await screenshot(page, 'customer-search-filtered');

  // Every filter is in the address, so a reload searches the same.
  const query = new URL(page.url()).searchParams;
  expect(query.get('category')).toBe(bread.id);
  expect(query.get('tags')?.split(',').sort()).toEqual(['dairy_free', 'vegan']);
  expect(query.get('maxPriceCents')).toBe('300');
  await page.reload();
  await expect.poll(() => listed(page), { timeout: STEP_MS }).toEqual(['Baguette']);
  expect(await category.inputValue()).toBe(bread.id);
  expect(await page.locator('#filters [data-tag="vegan"] input').isChecked()).toBe(true);
  expect(await price.inputValue()).toBe('3.00');

  // Cleared, then sorted by price: cheapest first.
  await category.selectOption('');
  await page.locator('#filters [data-tag="vegan"]').click();
  await page.locator('#filters [data-tag="dairy_free"]').click();
  await price.fill('');
  await price.press('Enter');
  await page.locator('#filters select[name=sort]').selectOption('price');
  await expect
    .poll(() => listed(page), { timeout: STEP_MS })
    .toEqual(['Baguette', 'Focaccia', 'Danish', 'Almond croissant', 'Einkorn loaf']);
  expect(new URL(page.url()).searchParams.get('sort')).toBe('price');
  await page.locator('#filters [data-tag="vegetarian"]').click();
  await expect.poll(() => listed(page), { timeout: STEP_MS }).toEqual(['Danish', 'Almond croissant']);
  await page.locator('#filters [data-tag="vegetarian"]').click();
  await expect.poll(() => listed(page), { timeout: STEP_MS }).toHaveLength(5);
  expect(await fitsTheScreen(page)).toBe(true);
  await screenshot(page, 'customer-search');
  expect(pageErrors(page)).toEqual([]);
});

it('places a collection order with the policy shown first; it reads ready to collect after prep, then Collected', async () => {
  const page = await openShop();
  await page.locator('#fulfilment input[value=collection]').check();
  const policy = page.locator('#collection-policy');
  await expect.poll(() => policy.textContent(), { timeout: STEP_MS }).toContain('within 60 minutes');
  expect(await policy.textContent()).toContain('not refunded');
  expect(await page.locator('#slots h2').textContent()).toBe('Collection window');
  expect(new URL(page.url()).searchParams.get('fulfilment')).toBe('collection');

  await page.locator(`[data-product-id="${ids.Danish}"]`).getByRole('button', { name: 'One more Danish' }).click();
  await page.locator(`[data-slot-id="${slotId}"]`).click();
  // No address is asked for a collection order; the no-refund rule is said beside the button.
  expect(await page.locator('#no-refund').textContent()).toContain('no refund');
  await screenshot(page, 'customer-collection-checkout');
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.waitForURL(/\/order\?id=/);
  const orderId = new URL(page.url()).searchParams.get('id')!;
  const placed = await stack.api('GET', `/v1/orders/${orderId}`, { token: owner.token });
  expect(placed.body).toMatchObject({ fulfilment: 'collection', address: null });

  const status = page.locator('#status');
  const sees = (value: string) =>
    expect.poll(() => status.getAttribute('data-status'), { timeout: STEP_MS }).toBe(value);
  await sees('confirmed');
  await markLoaded(page);
  for (const next of ['prepping', 'prepped'] as const) {
    const res = await stack.api('POST', `/v1/orders/${orderId}/prep`, { token: owner.token, body: { status: next } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  await sees('ready_for_collection');
  expect(await status.textContent()).toMatch(new RegExp(`^Ready to collect at ${SHOP} until \\d\\d:\\d\\d$`));
  await screenshot(page, 'customer-ready-to-collect');
  // My orders, open in another tab, says where and until when too.
  const list = await page.context().newPage();
  await list.goto(`${stack.baseUrl}/order`);
  const inList = list.locator(`#my-orders [data-order-id="${orderId}"] .order-status`);
  await expect.poll(() => inList.textContent(), { timeout: STEP_MS }).toBe(await status.textContent());

  const collected = await stack.api('POST', `/v1/orders/${orderId}/collect`, { token: owner.token });
  expect(collected.status, JSON.stringify(collected.body)).toBe(200);
  await sees('completed');
  expect(await status.textContent()).toBe('Collected');
  const timeline = await page.locator('#timeline li').allTextContents();
  expect(timeline.at(-1)).toMatch(/Collected$/);
  expect(timeline.join('\n')).not.toContain('Delivered');
  expect(await stillSameDocument(page)).toBe(true);

  // My orders says the same.
  await page.getByRole('link', { name: 'My orders' }).click();
  const row = page.locator(`#my-orders [data-order-id="${orderId}"] .order-status`);
  await expect.poll(() => row.textContent(), { timeout: STEP_MS }).toBe('Collected');
  expect(await page.locator(`#my-orders [data-order-id="${orderId}"] .what`).textContent()).toContain('collect from');
  expect(pageErrors(page)).toEqual([]);
});

it('shows a slot the page had not seen as soon as the stream names it', async () => {
  const page = await openShop();
  await page.locator(`[data-slot-id="${slotId}"]`).waitFor({ timeout: STEP_MS });
  await markLoaded(page);
  // A slot added after the page read its list; an order on it sends its first capacity change.
  const later = await createSlot(stack.db, locationId, { startsInMs: 4 * 3_600_000, capacity: 6 });
  const other = await createCustomer(stack);
  const taken = await stack.api('POST', '/v1/orders', {
    token: other.token,
    body: { locationId, slotId: later, fulfilment: 'collection', items: [{ productId: ids.Baguette, quantity: 1 }] },
  });
  expect(taken.status, JSON.stringify(taken.body)).toBe(201);
  const added = page.locator(`[data-slot-id="${later}"] .remaining`);
  await expect.poll(() => added.textContent(), { timeout: STEP_MS }).toBe('5 left');
  expect(await stillSameDocument(page)).toBe(true);
  expect(pageErrors(page)).toEqual([]);
});

it('adds the slots the weekly plan opens, and greys out an item sold out or thrown out, without a reload', async () => {
  const page = await openShop();
  await page.locator(`[data-slot-id="${slotId}"]`).waitFor({ timeout: STEP_MS });
  await markLoaded(page);

  // The owner plans a slot every day; the planner opens the coming ones and the page shows each as it opens.
  const before = new Set(
    ((await stack.api('GET', `/v1/locations/${locationId}/slots`)).body.slots as { id: string }[]).map((s) => s.id),
  );
  const everyDay = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({
    weekday,
    start: '18:00',
    end: '19:00',
    capacity: 7,
    cutoffMinutes: 30,
  }));
  const planned = await stack.api('PUT', `/v1/locations/${locationId}/slot-templates`, {
    token: owner.token,
    body: everyDay,
  });
  expect(planned.status, JSON.stringify(planned.body)).toBe(200);
  await stack.client.workflow.execute<typeof slotPlannerWorkflow>('slotPlannerWorkflow', {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: `planner-${randomUUID()}`,
    args: [{ daysAhead: 2 }],
  });
  const opened = ((await stack.api('GET', `/v1/locations/${locationId}/slots`)).body.slots as { id: string }[]).filter(
    (s) => !before.has(s.id),
  );
  expect(opened.length).toBeGreaterThan(0);
  await expect
    .poll(() => page.locator(`[data-slot-id="${opened[0]!.id}"] .remaining`).textContent(), { timeout: STEP_MS })
    .toBe('7 left');

  // Another customer buys the last Focaccia: it stays in the list, greyed out as sold out.
  const focaccia = page.locator(`[data-product-id="${ids.Focaccia}"]`);
  const left = Number(await focaccia.getAttribute('data-available'));
  expect(left).toBeGreaterThan(0);
  const other = await createCustomer(stack);
  const bought = await stack.api('POST', '/v1/orders', {
    token: other.token,
    body: {
      locationId,
      slotId,
      fulfilment: 'collection',
      items: [{ productId: ids.Focaccia, quantity: left }],
    },
  });
  expect(bought.status, JSON.stringify(bought.body)).toBe(201);
  await expect.poll(() => focaccia.getAttribute('class'), { timeout: STEP_MS }).toContain('sold-out');
  expect(await focaccia.locator('.meta').textContent()).toContain('Sold out');
  expect(await focaccia.getByRole('button', { name: 'One more Focaccia' }).isDisabled()).toBe(true);
  expect(await listed(page)).toContain('Focaccia');

  // The owner throws out the Einkorn loaves left: a stock event greys it out too.
  const einkorn = page.locator(`[data-product-id="${ids['Einkorn loaf']}"]`);
  const lots = await stack.api('GET', `/v1/locations/${locationId}/stock?productId=${ids['Einkorn loaf']}`, {
    token: owner.token,
  });
  expect(lots.status, JSON.stringify(lots.body)).toBe(200);
  const lot = lots.body.items[0] as { id: number; available: number };
  const discarded = await stack.api('POST', `/v1/locations/${locationId}/stock/${lot.id}/discard`, {
    token: owner.token,
    body: { quantity: lot.available },
  });
  expect(discarded.status, JSON.stringify(discarded.body)).toBe(200);
  await expect.poll(() => einkorn.getAttribute('class'), { timeout: STEP_MS }).toContain('sold-out');

  // New stock arrives: it can be ordered again.
  const received = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId: ids['Einkorn loaf'], quantity: 4 },
  });
  expect(received.status).toBe(201);
  await expect.poll(() => einkorn.getAttribute('data-available'), { timeout: STEP_MS }).toBe('4');
  expect(await einkorn.getAttribute('class')).not.toContain('sold-out');
  await screenshot(page, 'customer-live-stock');
  expect(await stillSameDocument(page)).toBe(true);
  expect(pageErrors(page)).toEqual([]);
});

// The owner's back office in a real browser, with the customer's page and the order board open at the same time: the
// weekly plan reaches the customer's slot list, a counter order goes from the counter to the board and off it, and each
// section's main action works through the page.
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { slotPlannerWorkflow } from '../../workflows/slot.js';
import { launchBrowser, logIn, pageErrors, phone, screenshot } from '../support/browser.js';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

let stack: TestStack;
let browser: Browser;
let locationId: string;
let timezone: string;
let bun: string;
let scone: string;
let owner: { id: string; token: string };
let ownerContext: BrowserContext | undefined;

// A spot no other location in this database delivers to, so the customer sees exactly one shop.
const HOME = { lat: 41.3874, lng: 2.1686 };
const STEP_MS = 15_000;

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: 'Eixample Café', ...HOME, delivery_radius_m: 5000 });
  timezone = (await stack.db('locations').where({ id: locationId }).first<{ timezone: string }>('timezone'))!.timezone;
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId], name: 'Olga Owner' });
  bun = await createProduct(stack.db, { name: 'Cinnamon bun', price_cents: 350 });
  scone = await createProduct(stack.db, { name: 'Cheese scone', price_cents: 275 });
  for (const productId of [bun, scone]) {
    const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId, quantity: 20 },
    });
    expect(stocked.status).toBe(201);
  }
  await createSlot(stack.db, locationId, { startsInMs: 2 * 3_600_000, capacity: 5 });
  browser = await launchBrowser();
});

// Each owner tab holds two live streams, and a browser opens at most six HTTP/1.1 connections to one server: tabs
// are closed after each test (the owner stays logged in).
afterEach(async () => {
  for (const page of ownerContext?.pages() ?? []) await page.close();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function desktop(size: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: size, locale: 'en-GB', timezoneId: 'Europe/London' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  (page as Page & { errors: string[] }).errors = errors;
  return { context, page };
}

async function markLoaded(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { loadMark: number }).loadMark = 1;
  });
}
async function stillSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { loadMark?: number }).loadMark === 1);
}
async function fitsTheScreen(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

/** The owner's page on one section, in a tab of its own; the owner logs in once, in the first tab. */
async function ownerAt(section: string): Promise<Page> {
  let page: Page;
  if (!ownerContext) {
    ({ context: ownerContext, page } = await phone(browser));
    await page.goto(`${stack.baseUrl}/owner#${section}`);
    await logIn(page, owner.token);
  } else {
    page = await ownerContext.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    (page as Page & { errors: string[] }).errors = errors;
    await page.goto(`${stack.baseUrl}/owner#${section}`);
  }
  await page.locator(`#tab-${section}[aria-current="page"]`).waitFor();
  return page;
}

/** What the nightly planner does, now: the coming days' slots from every location's plan. */
async function planSlots(): Promise<void> {
  await stack.client.workflow.execute<typeof slotPlannerWorkflow>('slotPlannerWorkflow', {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId: `planner-${crypto.randomUUID()}`,
    args: [{ daysAhead: 2 }],
  });
}

it('the owner plans a slot and enters a counter order; the customer and the board follow without a reload', async () => {
  const customer = await createCustomer(stack);
  const ownerPage = await ownerAt('counter');
  const customerPage = (await phone(browser)).page;
  const boardPage = (await desktop({ width: 1920, height: 1080 })).page;

  await customerPage.goto(`${stack.baseUrl}/order?lat=${HOME.lat}&lng=${HOME.lng}`);
  await logIn(customerPage, customer.token);
  await customerPage.locator('input[name=line1]').fill('1 Passeig de Gràcia');
  await customerPage.getByRole('button', { name: 'Find shops' }).click();
  await customerPage.locator(`[data-location-id="${locationId}"][aria-pressed="true"]`).waitFor();
  await customerPage.locator('#slots [data-slot-id]').first().waitFor({ timeout: STEP_MS });
  await markLoaded(customerPage);

  await boardPage.goto(`${stack.baseUrl}/board/${locationId}`);
  await expect.poll(() => boardPage.locator('#title').textContent(), { timeout: STEP_MS }).toContain('Eixample');
  await markLoaded(boardPage);
  await markLoaded(ownerPage);

  // The counter: two buns for Sam, no slot.

  const product = ownerPage.locator(`#counter-products [data-product-id="${bun}"]`);
  await product.waitFor({ timeout: STEP_MS });
  await product.getByRole('button', { name: 'One more Cinnamon bun' }).click();
  await product.getByRole('button', { name: 'One more Cinnamon bun' }).click();
  await ownerPage.locator('#counter-form input[name=label]').fill('Sam');
  await expect.poll(() => ownerPage.locator('#counter-total').textContent()).toBe('£7.00');
  await ownerPage.getByRole('button', { name: 'Place counter order' }).click();
  const numberEl = ownerPage.locator('#counter-number [data-number]');
  await numberEl.waitFor({ timeout: STEP_MS });
  const number = (await numberEl.getAttribute('data-number'))!;
  expect(number).toMatch(/^[0-9A-F]{4}$/);
  const card = ownerPage.locator(`#counter-orders [data-status]`).filter({ hasText: `#${number}` });
  await card.getByRole('button', { name: 'Start prepping' }).click({ timeout: STEP_MS });
  await boardPage.locator(`#preparing [data-number="${number}"]`).waitFor({ timeout: STEP_MS });
  await card.getByRole('button', { name: 'Mark prepped' }).click({ timeout: STEP_MS });
  await boardPage.locator(`#ready [data-number="${number}"]`).waitFor({ timeout: STEP_MS });
  await screenshot(boardPage, 'back-office-board-ready');
  await screenshot(ownerPage, 'back-office-counter');

  // Collected: the number leaves the board.
  await card.getByRole('button', { name: 'Collected' }).click({ timeout: STEP_MS });
  await boardPage.locator(`[data-number="${number}"]`).waitFor({ state: 'detached', timeout: STEP_MS });
  await expect.poll(() => card.getAttribute('data-status'), { timeout: STEP_MS }).toBe('completed');

  await ownerPage.locator('#tab-slots').click();
  // The owner adds this evening (the location's own evening) to the weekly plan.
  const weekday = DateTime.now().setZone(timezone).weekday;
  await ownerPage.getByRole('button', { name: 'Add a slot' }).click();
  const row = ownerPage.locator('#templates li.template').last();
  await row.locator('select[name=weekday]').selectOption(String(weekday));
  await row.locator('input[name=start]').fill('20:00');
  await row.locator('input[name=end]').fill('21:00');
  await row.locator('input[name=capacity]').fill('7');
  await row.locator('input[name=cutoffMinutes]').fill('30');
  await ownerPage.getByRole('button', { name: 'Save plan' }).click();
  await expect
    .poll(
      async () => (await stack.api('GET', `/v1/locations/${locationId}/slot-templates`, { token: owner.token })).body,
    )
    .toEqual({ templates: [{ weekday, start: '20:00', end: '21:00', capacity: 7, cutoffMinutes: 30 }] });
  await planSlots();
  const slots = (await stack.api('GET', `/v1/locations/${locationId}/slots`)).body.slots as {
    id: string;
    capacity: number;
  }[];
  const planned = slots.find((s) => s.capacity === 7)!;
  expect(planned).toBeDefined();
  await customerPage.locator(`#slots [data-slot-id="${planned.id}"]`).waitFor({ timeout: STEP_MS });
  await expect
    .poll(() => customerPage.locator(`[data-slot-id="${planned.id}"] .remaining`).textContent())
    .toBe('7 left');
  await ownerPage.locator(`#upcoming-slots [data-slot-id="${planned.id}"]`).waitFor({ timeout: STEP_MS });

  // A customer books it: the owner's count moves on its own.
  const booked = await stack.api('POST', '/v1/orders', {
    token: customer.token,
    body: {
      locationId,
      slotId: planned.id,
      items: [{ productId: scone, quantity: 1 }],
      address: { lat: HOME.lat, lng: HOME.lng, line1: '1 Passeig de Gràcia' },
    },
  });
  expect(booked.status).toBe(201);
  await expect
    .poll(() => ownerPage.locator(`[data-slot-id="${planned.id}"] .reserved`).textContent(), { timeout: STEP_MS })
    .toBe('1/7 booked');
  await screenshot(ownerPage, 'back-office-slots');

  for (const page of [ownerPage, customerPage, boardPage]) {
    expect(await stillSameDocument(page)).toBe(true);
    expect(pageErrors(page)).toEqual([]);
  }
  expect(await fitsTheScreen(ownerPage)).toBe(true);
});

it('a plan that overlaps is refused with the API’s message, and nothing is saved', async () => {
  const page = await ownerAt('slots');
  await page.locator('#templates li.template').first().waitFor({ timeout: STEP_MS });
  await page.getByRole('button', { name: 'Add a slot' }).click();
  const [first, added] = [
    page.locator('#templates li.template').first(),
    page.locator('#templates li.template').last(),
  ];
  await added.locator('select[name=weekday]').selectOption(await first.locator('select[name=weekday]').inputValue());
  await added.locator('input[name=start]').fill('20:30');
  await added.locator('input[name=end]').fill('21:30');
  await page.getByRole('button', { name: 'Save plan' }).click();
  await expect
    .poll(() => page.locator('#plan-form [role=alert]').textContent(), { timeout: STEP_MS })
    .toMatch(/overlaps/);
  const saved = await stack.api('GET', `/v1/locations/${locationId}/slot-templates`, { token: owner.token });
  expect(saved.body.templates).toHaveLength(1);
  expect(pageErrors(page)).toEqual([]);
});

it('Stock: receiving a lot shows it with its units, and a second tab sees it without a reload', async () => {
  const page = await ownerAt('stock');
  const other = await ownerAt('stock');
  await page.locator(`#stock-list [data-product-id="${scone}"]`).waitFor({ timeout: STEP_MS });
  await page.locator('#receive-form select[name=productId]').selectOption(scone);
  await page.locator('#receive-form input[name=quantity]').fill('13');
  await page.getByRole('button', { name: 'Receive' }).click();
  const lot = page.locator(`#stock-list [data-product-id="${scone}"] [data-available="13"]`);
  await lot.waitFor({ timeout: STEP_MS });
  await other.locator(`#stock-list [data-product-id="${scone}"] [data-available="13"]`).waitFor({ timeout: STEP_MS });
  await screenshot(page, 'back-office-stock');
  expect(pageErrors(page)).toEqual([]);
});

it('Stock: discarding a lot throws out its unreserved units', async () => {
  const page = await ownerAt('stock');
  const received = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId: bun, quantity: 4 },
  });
  expect(received.status).toBe(201);
  const row = page.locator(`[data-lot-id="${received.body.id}"]`);
  await row.waitFor({ timeout: STEP_MS });
  await row.getByRole('button', { name: 'Discard' }).click();
  await row.waitFor({ state: 'detached', timeout: STEP_MS });
  const lots = await stack.api('GET', `/v1/locations/${locationId}/stock?productId=${bun}`, { token: owner.token });
  expect(lots.body.items.find((l: { id: number }) => l.id === received.body.id)).toMatchObject({
    available: 0,
    discarded: 4,
  });
  expect(pageErrors(page)).toEqual([]);
});

it('Catalog: editing a product’s price, discount and tags saves them', async () => {
  const page = await ownerAt('catalog');
  const card = page.locator(`#products [data-product-id="${scone}"]`);
  await card.locator('summary').click({ timeout: STEP_MS });
  await card.locator('input[name=price]').fill('2.95');
  await card.locator('input[name=eodDiscountPercent]').fill('30');
  await card.locator('label.tag', { hasText: 'Vegetarian' }).locator('input').check();
  await card.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => card.locator('summary .price').textContent(), { timeout: STEP_MS }).toBe('£2.95');
  const product = await stack.api('GET', `/v1/products/${scone}`);
  expect(product.body).toMatchObject({ priceCents: 295, eodDiscountPercent: 30, tags: ['vegetarian'] });
  await screenshot(page, 'back-office-catalog');
  expect(pageErrors(page)).toEqual([]);
});

it('Production: a plan made on the page is paused and resumed', async () => {
  const page = await ownerAt('production');
  await page.locator('#plan-product select[name=productId] option').first().waitFor({ state: 'attached' });
  await page.locator('#plan-product select[name=productId]').selectOption(bun);
  await page.locator('#plan-product input[name=everyMinutes]').fill('90');
  await page.locator('#plan-product input[name=quantity]').fill('6');
  await page.getByRole('button', { name: 'Save plan' }).click();
  const plan = page.locator(`#plans [data-product-id="${bun}"]`);
  await plan.waitFor({ timeout: STEP_MS });
  await expect.poll(() => plan.textContent()).toContain('6 every 90 min');
  await plan.getByRole('button', { name: 'Pause' }).click();
  await expect.poll(() => plan.getAttribute('data-paused'), { timeout: STEP_MS }).toBe('true');
  const plans = await stack.api('GET', `/v1/locations/${locationId}/production`, { token: owner.token });
  expect(plans.body.plans).toEqual([expect.objectContaining({ productId: bun, paused: true })]);
  await plan.getByRole('button', { name: 'Resume' }).click();
  await expect.poll(() => plan.getAttribute('data-paused'), { timeout: STEP_MS }).toBe('false');
  await screenshot(page, 'back-office-production');
  expect(pageErrors(page)).toEqual([]);
});

it('Counter: an order taken at the counter is cancelled before prep, and its stock comes back', async () => {
  const page = await ownerAt('counter');
  const product = page.locator(`#counter-products [data-product-id="${scone}"]`);
  await product.waitFor({ timeout: STEP_MS });
  const before = Number((await product.locator('.meta').textContent())!.match(/(\d+) in stock/)![1]);
  await product.getByRole('button', { name: 'One more Cheese scone' }).click();
  await page.getByRole('button', { name: 'Place counter order' }).click();
  const number = (await page
    .locator('#counter-number [data-number]')
    .getAttribute('data-number', { timeout: STEP_MS }))!;
  const card = page.locator('#counter-orders [data-status]').filter({ hasText: `#${number}` });
  await expect
    .poll(() => product.locator('.meta').textContent(), { timeout: STEP_MS })
    .toContain(`${before - 1} in stock`);
  await card.getByRole('button', { name: `Cancel order #${number}` }).click({ timeout: STEP_MS });
  await expect.poll(() => card.getAttribute('data-status'), { timeout: STEP_MS }).toBe('cancelled');
  await expect.poll(() => product.locator('.meta').textContent(), { timeout: STEP_MS }).toContain(`${before} in stock`);
  expect(pageErrors(page)).toEqual([]);
});

it('Settings: a new name shows in the title and in another tab', async () => {
  const page = await ownerAt('staff');
  const other = await ownerAt('orders');
  const name = page.locator('#settings-form input[name=name]');
  await expect.poll(() => name.inputValue(), { timeout: STEP_MS }).toBe('Eixample Café');
  await name.fill('Eixample Café & Bakery');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.title(), { timeout: STEP_MS }).toContain('Eixample Café & Bakery');
  await expect.poll(() => other.title(), { timeout: STEP_MS }).toContain('Eixample Café & Bakery');
  const location = await stack.api('GET', `/v1/locations/${locationId}`);
  expect(location.body.name).toBe('Eixample Café & Bakery');
  expect(pageErrors(page)).toEqual([]);
});

it('Integrations: an endpoint is added with its secret shown once and sent a test event; a kitchen secret made here signs a message that moves an order', async () => {
  const page = await ownerAt('integrations');
  await page.locator('.add-webhook input[name=url]').fill('http://127.0.0.1:9/hooks');
  await page.locator('.add-webhook input[name=description]').fill('Poster screens');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const secret = page.locator('.webhook-secret input[name=secret]');
  await expect.poll(() => secret.inputValue(), { timeout: STEP_MS }).toMatch(/^whsec_/);
  const endpoint = page.locator('[data-webhook-id]').filter({ hasText: '127.0.0.1:9/hooks' });
  await endpoint.waitFor({ timeout: STEP_MS });
  const webhookId = (await endpoint.getAttribute('data-webhook-id'))!;
  // The list never shows a secret again.
  const listed = await stack.api('GET', `/v1/locations/${locationId}/webhooks`, { token: owner.token });
  expect(listed.body.webhooks).toEqual(
    expect.arrayContaining([expect.objectContaining({ id: webhookId, url: 'http://127.0.0.1:9/hooks' })]),
  );
  expect(JSON.stringify(listed.body)).not.toContain(await secret.inputValue());
  await endpoint.getByRole('button', { name: 'Send test event' }).click();
  await endpoint.locator('[data-delivery-id]').first().waitFor({ timeout: STEP_MS });
  const deliveries = await stack.api('GET', `/v1/locations/${locationId}/webhooks/${webhookId}/deliveries`, {
    token: owner.token,
  });
  expect(JSON.stringify(deliveries.body)).toContain('webhook.test');

  const kitchen = page.locator('.kitchen');
  await kitchen.getByRole('button', { name: 'Create secret' }).click();
  const kitchenSecret = kitchen.locator('.kitchen-secret input');
  await expect.poll(() => kitchenSecret.inputValue(), { timeout: STEP_MS }).toMatch(/^whsec_/);
  await expect.poll(() => kitchen.getByRole('button', { name: 'Rotate secret' }).count()).toBe(1);
  const counter = await stack.api('POST', `/v1/locations/${locationId}/counter-orders`, {
    token: owner.token,
    body: { items: [{ productId: scone, quantity: 1 }], label: 'Kitchen' },
  });
  expect(counter.status, JSON.stringify(counter.body)).toBe(201);
  const body = JSON.stringify({ type: 'order.prepping', data: { orderId: counter.body.id } });
  const id = `msg_${randomUUID()}`;
  const timestamp = new Date();
  const signature = new Webhook(await kitchenSecret.inputValue()).sign(id, timestamp, body);
  const moved = await fetch(`${stack.baseUrl}/v1/integrations/kitchen/${locationId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body,
  });
  expect(moved.status, await moved.clone().text()).toBe(200);
  expect(await moved.json()).toMatchObject({ orderId: counter.body.id, status: 'prepping' });
  await screenshot(page, 'back-office-integrations');
  expect(pageErrors(page)).toEqual([]);
});

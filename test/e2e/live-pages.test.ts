// The four pages in a real browser on phone-sized screens: a customer orders and watches every change arrive while the owner and driver act elsewhere.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
let slotId: string;
let croissant: string;
let owner: { id: string; token: string };
let driver: { id: string; token: string };

// A spot no other location in this database delivers to, so the customer sees exactly one shop.
const HOME = { lat: 48.8566, lng: 2.3522 };
const STEP_MS = 15_000;

beforeAll(async () => {
  stack = await startTestStack();
  locationId = await createLocation(stack.db, { name: 'Rue de Rivoli Bakery', ...HOME, delivery_radius_m: 5000 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId], name: 'Olivia Owner' });
  driver = await createUser(stack.db, 'driver', { locationIds: [locationId], name: 'Dev Driver' });
  croissant = await createProduct(stack.db, { name: 'Butter croissant', price_cents: 325 });
  const baguette = await createProduct(stack.db, { name: 'Baguette', price_cents: 180 });
  for (const productId of [croissant, baguette]) {
    const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
      token: owner.token,
      body: { productId, quantity: 30 },
    });
    expect(stocked.status).toBe(201);
  }
  slotId = await createSlot(stack.db, locationId, { startsInMs: 2 * 3_600_000, capacity: 5 });
  await createSlot(stack.db, locationId, { startsInMs: 3 * 3_600_000, capacity: 8 });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Marks the loaded document; if the page ever reloads, the mark is gone. */
async function markLoaded(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { loadMark: number }).loadMark = 1;
  });
}
async function stillSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { loadMark?: number }).loadMark === 1);
}

it('shows every change live on the customer, owner, driver and board pages, without a reload', async () => {
  const customer = await createCustomer(stack);
  const customerPage = (await phone(browser)).page;
  const ownerPage = (await phone(browser)).page;
  const driverPage = (await phone(browser)).page;
  const boardPage = (await phone(browser)).page;

  // The customer logs in once, finds the shop and picks items and a slot.
  await customerPage.goto(`${stack.baseUrl}/order?lat=${HOME.lat}&lng=${HOME.lng}`);
  await logIn(customerPage, customer.token);
  await customerPage.locator('input[name=line1]').fill('12 Rue de Rivoli');
  await customerPage.getByRole('button', { name: 'Find shops' }).click();
  await customerPage.locator(`[data-location-id="${locationId}"][aria-pressed="true"]`).waitFor();
  await customerPage
    .locator(`[data-product-id="${croissant}"]`)
    .getByRole('button', { name: 'One more Butter croissant' })
    .click();
  await customerPage
    .locator(`[data-product-id="${croissant}"]`)
    .getByRole('button', { name: 'One more Butter croissant' })
    .click();
  const slot = customerPage.locator(`[data-slot-id="${slotId}"]`);
  await expect.poll(() => slot.locator('.remaining').textContent(), { timeout: STEP_MS }).toBe('5 left');
  await slot.click();
  await markLoaded(customerPage);

  // Someone else takes the same slot: the picker's count drops on its own.
  const other = await createCustomer(stack);
  const taken = await stack.api('POST', '/v1/orders', {
    token: other.token,
    body: {
      locationId,
      slotId,
      items: [{ productId: croissant, quantity: 1 }],
      address: { lat: HOME.lat, lng: HOME.lng, line1: '1 Quai' },
    },
  });
  expect(taken.status).toBe(201);
  await expect.poll(() => slot.locator('.remaining').textContent(), { timeout: STEP_MS }).toBe('4 left');
  await screenshot(customerPage, 'customer-slot-picker');

  await customerPage.getByRole('button', { name: 'Place order' }).click();
  await customerPage.waitForURL(/\/order\?id=/);
  const orderId = new URL(customerPage.url()).searchParams.get('id')!;
  const number = `#${orderId.replace(/-/g, '').slice(0, 4).toUpperCase()}`;
  const status = customerPage.locator('#status');
  const customerSees = (value: string) =>
    expect.poll(() => status.getAttribute('data-status'), { timeout: STEP_MS }).toBe(value);
  await customerSees('confirmed');
  await expect.poll(() => customerPage.locator('#number').textContent()).toBe(number);
  await markLoaded(customerPage);

  // The public board, before anything is ready.
  await boardPage.goto(`${stack.baseUrl}/board/${locationId}`);
  await expect
    .poll(() => boardPage.locator('#title').textContent(), { timeout: STEP_MS })
    .toContain('Rue de Rivoli Bakery');
  await markLoaded(boardPage);

  // The owner preps it on the dashboard.
  await ownerPage.goto(`${stack.baseUrl}/owner`);
  await ownerPage.locator('#login').waitFor();
  await screenshot(ownerPage, 'owner-login');
  await logIn(ownerPage, owner.token);
  const ownerCard = ownerPage.locator(`[data-order-id="${orderId}"]`);
  await ownerPage.locator(`#to-prep [data-order-id="${orderId}"]`).waitFor({ timeout: STEP_MS });
  await markLoaded(ownerPage);
  await ownerCard.getByRole('button', { name: 'Start prepping' }).click();
  await customerSees('prepping');
  await ownerCard.getByRole('button', { name: 'Mark prepped' }).click();
  await customerSees('prepped');
  // A delivery order waiting for its driver is still being prepared as the board tells it.
  await boardPage.locator(`#preparing [data-number="${number.slice(1)}"]`).waitFor({ timeout: STEP_MS });
  await screenshot(boardPage, 'board-preparing');

  // ...and assigns the driver once the delivery is waiting.
  await ownerPage
    .locator(`#to-assign [data-order-id="${orderId}"] button[data-action="assign"]:not([disabled])`)
    .waitFor({ timeout: STEP_MS });
  await screenshot(ownerPage, 'owner-dashboard');
  await ownerCard.locator('select[name=driver]').selectOption(driver.id);
  await ownerCard.getByRole('button', { name: 'Assign' }).click();
  await ownerPage.locator(`#out [data-order-id="${orderId}"]`).waitFor({ timeout: STEP_MS });

  // The driver sees the new job arrive, picks it up and hands it over.
  await driverPage.goto(`${stack.baseUrl}/driver`);
  await logIn(driverPage, driver.token);
  const job = driverPage.locator(`[data-order-id="${orderId}"]`);
  await driverPage.locator(`#to-pick-up [data-order-id="${orderId}"]`).waitFor({ timeout: STEP_MS });
  await markLoaded(driverPage);
  await screenshot(driverPage, 'driver-to-pick-up');
  await job.getByRole('button', { name: 'Picked up' }).click();
  await customerSees('out_for_delivery');
  await boardPage.locator(`#out [data-number="${number.slice(1)}"]`).waitFor({ timeout: STEP_MS });
  await driverPage.locator(`#on-the-way [data-order-id="${orderId}"]`).waitFor({ timeout: STEP_MS });
  await job.getByRole('button', { name: 'Delivered' }).click();
  await customerSees('completed');
  await boardPage.locator(`[data-number="${number.slice(1)}"]`).waitFor({ state: 'detached', timeout: STEP_MS });
  await driverPage.locator(`#delivered [data-order-id="${orderId}"]`).waitFor({ timeout: STEP_MS });

  // One line per step, in order: delivery events that repeat an order status add no line of their own.
  const timeline = await customerPage.locator('#timeline li').allTextContents();
  const steps = [
    'Order received',
    'Waiting for payment',
    'Paid and confirmed',
    'Being prepared',
    'Ready, waiting for a driver',
    'A driver is assigned',
    'On its way',
    'Delivered',
  ];
  expect(timeline.map((line) => steps.find((step) => line.endsWith(step)) ?? line)).toEqual(steps);
  await screenshot(customerPage, 'customer-order-timeline');
  await screenshot(ownerPage, 'owner-dashboard-after');

  for (const page of [customerPage, ownerPage, driverPage, boardPage]) {
    expect(await stillSameDocument(page)).toBe(true);
    expect(pageErrors(page)).toEqual([]);
  }
  // The board shows numbers only: no names, addresses or ids.
  const boardText = await boardPage.locator('body').innerText();
  expect(boardText).not.toContain('12 Rue de Rivoli');
  expect(boardText).not.toContain(orderId);
});

// Accounts in a real browser on phone-sized screens: a new customer signs up, opens a test bank account, orders and
// watches the order confirm in "My orders"; an owner invites a driver, who accepts in a browser of their own.
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, logIn, pageErrors, phone, screenshot } from '../support/browser.js';
import {
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
/** While set, the bank's webhooks are refused (and retried by the bank), so an order waits for its payment. */
let holdPayments = false;

// A spot no other location in this database delivers to, so the customer sees exactly one shop.
const HOME = { lat: 45.764, lng: 4.8357 };
const STEP_MS = 15_000;
const PASSWORD = 'a sourdough starter';

beforeAll(async () => {
  stack = await startTestStack({}, (app) => {
    app.addHook('onRequest', async (request, reply) => {
      if (holdPayments && request.url.startsWith('/v1/webhooks/bank')) {
        await reply.code(503).send({ error: 'unavailable', message: 'The bank webhook is held by the test' });
      }
    });
  });
  locationId = await createLocation(stack.db, { name: 'Presqu’île Bakery', ...HOME, delivery_radius_m: 5000 });
  owner = await createUser(stack.db, 'owner', { locationIds: [locationId], name: 'Odile Owner' });
  croissant = await createProduct(stack.db, { name: 'Butter croissant', price_cents: 325 });
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId: croissant, quantity: 20 },
  });
  expect(stocked.status).toBe(201);
  slotId = await createSlot(stack.db, locationId, { startsInMs: 2 * 3_600_000, capacity: 5 });
  browser = await launchBrowser();
});

afterAll(async () => {
  holdPayments = false;
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
/** Nothing is wider than the phone's screen. */
async function fitsTheScreen(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

it('a new customer signs up, opens a test bank account, orders and sees the order confirm in My orders without a reload', async () => {
  const { page } = await phone(browser);
  const email = `nora-${randomUUID()}@example.com`;
  const taken = `taken-${randomUUID()}@example.com`;
  const other = await stack.api('POST', '/v1/accounts', {
    body: { email: taken, password: PASSWORD, name: 'Taken' },
    headers: { 'x-csrf': '1' },
  });
  expect(other.status).toBe(201);

  await page.goto(`${stack.baseUrl}/order?lat=${HOME.lat}&lng=${HOME.lng}`);
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  const signUp = page.locator('#sign-up');
  expect(await signUp.getByText('At least 10 characters (at most 200).').isVisible()).toBe(true);
  await signUp.getByLabel('Name').fill('Nora New');
  await signUp.getByLabel('Email').fill(taken);
  await signUp.getByLabel('Password').fill(PASSWORD);
  await signUp.getByRole('button', { name: 'Create account' }).click();
  // The API's answer shows next to the field it is about.
  const emailError = signUp.locator('[data-error-for="email"]');
  await expect.poll(() => emailError.textContent(), { timeout: STEP_MS }).not.toBe('');
  expect(await signUp.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
  await screenshot(page, 'customer-sign-up-email-taken');
  await signUp.getByLabel('Email').fill(email);
  await signUp.getByRole('button', { name: 'Create account' }).click();

  // A new account has no bank account yet: the page asks for one, and the dev bank opens a test account.
  await page.locator('#bank-account').waitFor({ timeout: STEP_MS });
  expect(await fitsTheScreen(page)).toBe(true);
  await screenshot(page, 'customer-link-bank-account');
  await page.getByRole('button', { name: 'Open a test account' }).click();
  await page.locator('#where').waitFor({ timeout: STEP_MS });

  await page.getByLabel('Address').fill('3 Place Bellecour');
  await page.getByRole('button', { name: 'Find shops' }).click();
  await page.locator(`[data-location-id="${locationId}"][aria-pressed="true"]`).waitFor({ timeout: STEP_MS });
  await page.getByRole('button', { name: 'One more Butter croissant' }).click();
  await page.locator(`[data-slot-id="${slotId}"]`).click();
  holdPayments = true;
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.waitForURL(/\/order\?id=/);
  const orderId = new URL(page.url()).searchParams.get('id')!;
  await expect
    .poll(() => page.locator('#status').getAttribute('data-status'), { timeout: STEP_MS })
    .toBe('awaiting_payment');

  // My orders lists it while the bank has not answered; the answer moves it on the same screen.
  await page.getByRole('link', { name: 'My orders' }).click();
  const row = page.locator(`#my-orders [data-order-id="${orderId}"]`);
  await row.waitFor({ timeout: STEP_MS });
  expect(await row.getAttribute('data-status')).toBe('awaiting_payment');
  await markLoaded(page);
  await screenshot(page, 'customer-my-orders-awaiting-payment');
  holdPayments = false;
  await expect.poll(() => row.getAttribute('data-status'), { timeout: STEP_MS }).toBe('confirmed');
  expect(await row.locator('.order-status').textContent()).toBe('Paid and confirmed');
  expect(await stillSameDocument(page)).toBe(true);
  expect(await fitsTheScreen(page)).toBe(true);
  await screenshot(page, 'customer-my-orders-confirmed');

  // The list opens the order's own page.
  await row.getByRole('link').click();
  await page.waitForURL(new RegExp(`/order\\?id=${orderId}`));
  await expect.poll(() => page.locator('#status').getAttribute('data-status'), { timeout: STEP_MS }).toBe('confirmed');

  // Logging out ends the session; email and password bring it back (a wrong password is told beside its field).
  await page.getByRole('button', { name: 'Log out' }).click();
  const login = page.locator('#password-login');
  await login.waitFor({ timeout: STEP_MS });
  await login.getByLabel('Email').fill(email);
  await login.getByLabel('Password').fill('not the password');
  await login.getByRole('button', { name: 'Log in' }).click();
  await expect
    .poll(() => login.locator('[data-error-for="password"]').textContent(), { timeout: STEP_MS })
    .not.toBe('');
  await login.getByLabel('Password').fill(PASSWORD);
  await login.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#login').waitFor({ state: 'detached', timeout: STEP_MS });
  await expect.poll(() => page.locator('#status').getAttribute('data-status'), { timeout: STEP_MS }).toBe('confirmed');
  expect(pageErrors(page)).toEqual([]);
});

it('an owner invites a driver on the owner page, and the driver accepts in another browser', async () => {
  const { page: ownerPage } = await phone(browser);
  await ownerPage.goto(`${stack.baseUrl}/owner#staff`);
  await logIn(ownerPage, owner.token);
  const staff = ownerPage.locator(`#staff [data-location-id="${locationId}"]`);
  await staff.locator(`[data-user-id="${owner.id}"]`).waitFor({ timeout: STEP_MS });

  const email = `dara-${randomUUID()}@example.com`;
  await staff.getByLabel('Email').fill(email);
  await staff.getByLabel('Role').selectOption('driver');
  await staff.getByRole('button', { name: 'Invite' }).click();
  const link = staff.locator('input[name=invitationUrl]');
  await link.waitFor({ timeout: STEP_MS });
  const invitationUrl = new URL(await link.inputValue());
  expect(invitationUrl.pathname).toBe('/invitation.html');
  await staff.locator(`[data-email="${email}"]`).waitFor({ timeout: STEP_MS });
  expect(await fitsTheScreen(ownerPage)).toBe(true);
  await screenshot(ownerPage, 'owner-staff-invited');

  // The invited driver, in a browser of their own, opens the link (on this test's server).
  const { page: invitee } = await phone(browser);
  await invitee.goto(`${stack.baseUrl}/invitation.html${invitationUrl.hash}`);
  const invitation = invitee.locator('#invitation');
  await invitation.locator('[data-field="email"]').waitFor({ timeout: STEP_MS });
  expect(await invitation.locator('[data-field="location"]').textContent()).toBe('Presqu’île Bakery');
  expect(await invitation.locator('[data-field="role"]').textContent()).toBe('driver');
  expect(await invitation.locator('[data-field="email"]').textContent()).toBe(email);
  await invitation.getByLabel('Your name').fill('Dara Driver');
  await invitation.getByLabel('Choose a password').fill(PASSWORD);
  await screenshot(invitee, 'invitation');
  await invitation.getByRole('button', { name: 'Accept the invitation' }).click();
  await invitee.getByRole('link', { name: 'Open the driver page' }).click();
  await invitee.waitForURL(/\/driver$/);
  await expect.poll(() => invitee.locator('#user').textContent(), { timeout: STEP_MS }).toContain('Dara Driver');
  expect(await invitee.locator('#login').count()).toBe(0);

  // Back on the owner's page the driver is staff and the invitation is no longer pending.
  await ownerPage.reload();
  const driverRow = staff.locator('[data-role="driver"]', { hasText: 'Dara Driver' });
  await driverRow.waitFor({ timeout: STEP_MS });
  expect(await staff.locator(`[data-email="${email}"]`).count()).toBe(0);

  // An invitation sent by mistake is withdrawn, and a driver who leaves is removed.
  const mistake = `nobody-${randomUUID()}@example.com`;
  await staff.getByLabel('Email').fill(mistake);
  await staff.getByRole('button', { name: 'Invite' }).click();
  const pending = staff.locator(`[data-email="${mistake}"]`);
  await pending.waitFor({ timeout: STEP_MS });
  await pending.getByRole('button', { name: `Withdraw the invitation for ${mistake}` }).click();
  await pending.waitFor({ state: 'detached', timeout: STEP_MS });
  await driverRow.getByRole('button', { name: 'Remove Dara Driver' }).click();
  await driverRow.waitFor({ state: 'detached', timeout: STEP_MS });
  await screenshot(ownerPage, 'owner-staff-after');

  expect(pageErrors(ownerPage)).toEqual([]);
  expect(pageErrors(invitee)).toEqual([]);
});

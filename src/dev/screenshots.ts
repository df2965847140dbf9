// `npm run screenshots`: starts the demo stack on its own ports and data directory, puts a few orders on it, and saves
// the owner's back office (every section), the customer page and the order board at phone and desktop sizes, and an
// order in the Temporal Web UI (its summary and details decrypted for an operator, and as anyone else sees it), as PNGs
// in docs/screenshots/ for the README and docs/operations.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { DemoData } from '../db/seed.js';
import { orderNumber } from '../domain/words.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = path.join(root, 'docs/screenshots');
const dataDir = path.join(root, '.data/screenshots');
// Ports of their own, so a stack already running for development is left alone.
const PORTS = {
  PORT: 3300,
  PG_PORT: 5533,
  TEMPORAL_PORT: 7333,
  TEMPORAL_UI_PORT: 8333,
  BANK_PORT: 3400,
  WORKER_METRICS_PORT: 9564,
  WORKER_APP_METRICS_PORT: 9565,
};
const base = `http://127.0.0.1:${PORTS.PORT}`;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const WALL = { width: 1920, height: 1080 };
const OWNER_SECTIONS = ['orders', 'counter', 'slots', 'stock', 'catalog', 'production', 'staff', 'integrations'];
const say = (message: string) => console.log(`[screenshots] ${message}`);

/** `npm start` in a fresh data directory; resolves once it prints that it is ready, with a way to stop it. */
async function startDemo(): Promise<() => Promise<void>> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const [name, port] of Object.entries(PORTS)) env[name] = String(port);
  const child = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'src/dev/start.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo stack did not start within 5 minutes')), 300_000);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('[start]')) say(line);
      if (line.startsWith('Ready in')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error('the demo stack exited before it was ready')));
  });
  return async () => {
    child.kill('SIGINT');
    await exited;
  };
}

async function call<T>(method: string, url: string, token: string, body?: unknown, headers = {}): Promise<T> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Orders in every state the pages show: a delivery order to prep, counter orders preparing and ready. */
async function stageOrders(demo: DemoData): Promise<{ deliveryOrderId: string; counterOrderId: string }> {
  const owner = demo.users.owner.token;
  const { items } = await call<{ items: { productId: string }[] }>(
    'GET',
    `/v1/locations/${demo.locationId}/stock?limit=100`,
    owner,
  );
  const [first, second] = [...new Set(items.map((lot) => lot.productId))];
  if (!first || !second) throw new Error('the demo location has no stock');
  const { slots } = await call<{ slots: { id: string; status: string }[] }>(
    'GET',
    `/v1/locations/${demo.locationId}/slots`,
    owner,
  );
  const slot = slots.find((s) => s.status === 'open');
  if (!slot) throw new Error('the demo location has no open slot');
  const delivery = await call<{ id: string }>('POST', '/v1/orders', demo.users.customer.token, {
    locationId: demo.locationId,
    slotId: slot.id,
    items: [{ productId: first, quantity: 2 }],
    address: { lat: 51.52, lng: -0.07, line1: '1 Brick Lane' },
  });
  const counter = async (label: string, productId: string, quantity: number) =>
    call<{ id: string }>(
      'POST',
      `/v1/locations/${demo.locationId}/counter-orders`,
      owner,
      { items: [{ productId, quantity }], label },
      { 'idempotency-key': `screenshots-${label}` },
    );
  const prep = (id: string, status: string) => call('POST', `/v1/orders/${id}/prep`, owner, { status });
  const ready = await counter('Sam', first, 2);
  const preparing = await counter('Alex', second, 1);
  await counter('Kim', second, 3);
  await prep(ready.id, 'prepping');
  await prep(ready.id, 'prepped');
  await prep(preparing.id, 'prepping');
  return { deliveryOrderId: delivery.id, counterOrderId: ready.id };
}

/**
 * An order's workflow in the Temporal Web UI: its summary and current details, and its history with the input
 * decrypted, for an operator logged in on the API's pages whose UI sends that cookie to the codec endpoint; then the
 * same page for a browser that is not, where the payloads stay encrypted.
 */
async function shootTemporalUi(browser: Browser, demo: DemoData, orderId: string): Promise<void> {
  const ui = `http://127.0.0.1:${PORTS.TEMPORAL_UI_PORT}`;
  const workflow = `${ui}/namespaces/default/workflows/order-${orderId}`;
  const save = async (page: Page, name: string) => {
    await page.waitForTimeout(1500);
    const file = path.join(outDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    say(`${path.relative(root, file)} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
  };
  // The UI renders the summary and details in frames of their own: look in every frame.
  const shows = async (page: Page, text: string) => {
    for (let waited = 0; waited < 30_000; waited += 250) {
      for (const frame of page.frames()) {
        if ((await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '')).includes(text)) return;
      }
      await page.waitForTimeout(250);
    }
    throw new Error(`the Temporal UI never showed "${text}" on ${page.url()}`);
  };
  // The workflow's page redirects to its latest run's timeline; each tab is a path below the run.
  const tab = async (page: Page, path: 'user-metadata' | 'history') => {
    await page.waitForURL(/\/timeline$/);
    await page.goto(page.url().replace(/\/timeline$/, `/${path}`));
  };

  const operator = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', timezoneId: 'UTC' });
  const login = await operator.request.post(`${base}/v1/session`, {
    data: { token: demo.users.operator.token },
    headers: { 'x-csrf': '1' },
  });
  if (!login.ok()) throw new Error(`could not log in the operator: ${login.status()}`);
  const page = await operator.newPage();
  await page.goto(ui);
  // The UI's Codec Server settings, as docs/operations.md has an operator set them once per browser.
  await page.evaluate((endpoint) => {
    localStorage.setItem('endpoint', JSON.stringify(endpoint));
    localStorage.setItem('includeCredentials', 'true');
    localStorage.setItem('passAccessToken', 'false');
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
  }, `${base}/codec`);
  const decoded = () => page.waitForResponse((r) => r.url().includes('/codec/decode') && r.ok());
  await page.goto(workflow);
  await tab(page, 'user-metadata');
  await shows(page, `Order ${orderNumber(orderId)}`);
  await save(page, 'temporal-ui-summary');
  await page.goto(workflow);
  const historyDecoded = decoded();
  await tab(page, 'history');
  await historyDecoded;
  await save(page, 'temporal-ui-history');
  await operator.close();

  const anyone = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', timezoneId: 'UTC' });
  const other = await anyone.newPage();
  await other.goto(workflow);
  await tab(other, 'user-metadata');
  await shows(other, 'No summary available');
  await save(other, 'temporal-ui-without-codec');
  await anyone.close();
}

async function shoot(
  browser: Browser,
  size: { width: number; height: number },
  token: string | undefined,
  shots: { url: string; name: string; ready: (page: Page) => Promise<unknown> }[],
): Promise<void> {
  const phone = size.width < 500;
  const context = await browser.newContext({
    viewport: size,
    deviceScaleFactor: 1,
    isMobile: phone,
    hasTouch: phone,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
  });
  if (token) {
    const res = await context.request.post(`${base}/v1/session`, { data: { token }, headers: { 'x-csrf': '1' } });
    if (!res.ok()) throw new Error(`could not log in: ${res.status()}`);
  }
  const page = await context.newPage();
  for (const shot of shots) {
    await page.goto(`${base}${shot.url}`);
    await shot.ready(page);
    // Live streams settle and toasts fade before the picture.
    await page.waitForTimeout(800);
    const file = path.join(outDir, `${shot.name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    say(`${path.relative(root, file)} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
  }
  await context.close();
}

const stop = await startDemo();
let failed = false;
try {
  const demo = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8')) as DemoData;
  const { deliveryOrderId } = await stageOrders(demo);
  fs.mkdirSync(outDir, { recursive: true });
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const ownerShots = (suffix: string) =>
    OWNER_SECTIONS.map((section) => ({
      url: `/owner#${section}`,
      name: `owner-${section}-${suffix}`,
      ready: (page: Page) => page.locator(`#tab-${section}[aria-current="page"]`).waitFor(),
    }));
  const customerShot = (suffix: string) => ({
    url: '/order?lat=51.52&lng=-0.07',
    name: `customer-${suffix}`,
    ready: async (page: Page) => {
      await page.locator('input[name=line1]').fill('1 Brick Lane');
      await page.getByRole('button', { name: 'Find shops' }).click();
      await page.locator('#slots [data-slot-id]').first().waitFor();
    },
  });
  const boardShot = (suffix: string) => ({
    url: `/board/${demo.locationId}`,
    name: `board-${suffix}`,
    ready: (page: Page) => page.locator('#ready li').first().waitFor(),
  });
  await shoot(browser, PHONE, demo.users.owner.token, ownerShots('phone'));
  await shoot(browser, DESKTOP, demo.users.owner.token, ownerShots('desktop'));
  await shoot(browser, PHONE, demo.users.customer.token, [customerShot('phone')]);
  await shoot(browser, DESKTOP, demo.users.customer.token, [customerShot('desktop')]);
  await shoot(browser, PHONE, undefined, [boardShot('phone')]);
  await shoot(browser, WALL, undefined, [boardShot('wall')]);
  await shootTemporalUi(browser, demo, deliveryOrderId);
  await browser.close();
} catch (err) {
  failed = true;
  console.error(`[screenshots] failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await stop();
}
process.exit(failed ? 1 : 0);

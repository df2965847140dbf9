// Debian's chromium driven by playwright-core: phone-sized contexts and screenshots saved as test artifacts.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';
import './context.js';

export const SCREENSHOT_DIR = path.resolve('test-results/screenshots');

/** The browser the e2e layer's global setup found or installed (test/support/setup-browser.ts). */
export async function launchBrowser(): Promise<Browser> {
  // Playwright gives every launch a fresh temporary --user-data-dir of its own (and refuses the flag in args).
  return chromium.launch({
    executablePath: inject('chromiumPath'),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A separate browser profile (its own cookies) on a phone-sized screen. */
export async function phone(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
  });
  const page = await context.newPage();
  // A page error is a test failure, not a silent blank screen.
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  (page as Page & { errors: string[] }).errors = errors;
  return { context, page };
}

export function pageErrors(page: Page): string[] {
  return (page as Page & { errors?: string[] }).errors ?? [];
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Logs a page in with an API token through its own form (under "Advanced"), as a person would. */
export async function logIn(page: Page, token: string): Promise<void> {
  const input = page.locator('#login input[name=token]');
  await page.locator('#login').waitFor();
  if (!(await input.isVisible())) await page.locator('#login summary').click();
  await input.fill(token);
  await page.locator('#token-login button[type=submit]').click();
  await page.locator('#login').waitFor({ state: 'detached' });
}

// The browser layer's setup honours CHROMIUM_PATH, and refuses a wrong one by name instead of skipping the tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ensureChromium } from '../support/setup-browser.js';

it('uses the Chromium CHROMIUM_PATH names, and fails with the fix when it is not an executable', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-'));
  try {
    const binary = path.join(dir, 'chromium');
    fs.writeFileSync(binary, '#!/bin/sh\n', { mode: 0o755 });
    await expect(ensureChromium({ CHROMIUM_PATH: binary })).resolves.toBe(binary);
    fs.chmodSync(binary, 0o644);
    await expect(ensureChromium({ CHROMIUM_PATH: binary })).rejects.toThrow(
      `CHROMIUM_PATH=${binary} is not an executable file`,
    );
    const missing = path.join(dir, 'missing');
    await expect(ensureChromium({ CHROMIUM_PATH: missing })).rejects.toThrow(
      `CHROMIUM_PATH=${missing} is not an executable file`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// The OpenAPI document is the contract: Schemathesis generates requests from /docs/json and runs its default checks
// (statuses, content types, headers and bodies as documented, invalid input refused, valid input accepted, 405 for
// undeclared methods) against the API on the real stack, once as an owner and once as a customer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { findSchemathesis, runSchemathesis } from '../../src/dev/schemathesis.js';
import { createCustomer, createLocation, createProduct, createSlot, createUser, startTestStack, type TestStack } from '../support/stack.js';

// Small enough for npm test on two cores (under half a minute a caller on an idle machine); `npm run bench -- contract`
// runs a larger one. The timeout is the bound for a loaded machine.
const MAX_EXAMPLES = Number(process.env.CONTRACT_MAX_EXAMPLES ?? 5);
const TIMEOUT_MS = 100_000;
// A fixed seed, so a failure here is the same failure on the next run; CONTRACT_SEED explores elsewhere.
const SEED = Number(process.env.CONTRACT_SEED ?? 12);

let stack: TestStack;
let binary: string;
const tokens: Record<'owner' | 'customer', string> = { owner: '', customer: '' };

beforeAll(async () => {
  // First use installs the pinned Schemathesis from PyPI into the tools folder (a minute at most); later runs reuse it.
  binary = await findSchemathesis(loadConfig(process.env).toolsDir, (msg) => console.log(msg));
  // Errors only: the fuzzer's refused requests would otherwise log hundreds of warnings.
  stack = await startTestStack({ LOG_LEVEL: 'error' });
  // Far from every other test's locations, so what the fuzzer creates here shows up in no one else's search.
  const locationId = await createLocation(stack.db, { name: 'Contract bakery', lat: -43.53, lng: 172.63, delivery_radius_m: 2000 });
  await createProduct(stack.db, { name: 'Contract loaf' });
  await createSlot(stack.db, locationId);
  tokens.owner = (await createUser(stack.db, 'owner', { locationIds: [locationId] })).token;
  tokens.customer = (await createCustomer(stack)).token;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the API against its OpenAPI document', () => {
  it.each(['owner', 'customer'] as const)('passes every default Schemathesis check as %s', async (role) => {
    const run = await runSchemathesis({ binary, baseUrl: stack.baseUrl, token: tokens[role], maxExamples: MAX_EXAMPLES, timeoutMs: TIMEOUT_MS, seed: SEED });
    console.log(`Schemathesis as ${role}:\n${run.summary}`);
    // The whole report when it fails: each failure with the curl command that reproduces it.
    expect(run.code, run.output).toBe(0);
    expect(run.summary).toMatch(/Tested: \d+/);
    expect(run.summary).not.toMatch(/Tested: 0\b/);
  }, TIMEOUT_MS + 20_000);
});

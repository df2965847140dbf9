// The OpenAPI document is the contract: Schemathesis generates requests from /docs/json and runs its default checks
// (statuses, content types, headers and bodies as documented, invalid input refused, valid input accepted, 405 for
// undeclared methods) against the API on the real stack, once as an owner and once as a customer.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { findSchemathesis, runSchemathesis } from '../../src/dev/schemathesis.js';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

// Small enough for npm test on two cores (under half a minute a caller on an idle machine); `npm run bench -- contract`
// runs a larger one. The timeout is the bound for a loaded machine.
const MAX_EXAMPLES = Number(process.env.CONTRACT_MAX_EXAMPLES ?? 5);
const TIMEOUT_MS = 150_000;
// A fixed seed, so a failure here is the same failure on the next run; CONTRACT_SEED explores elsewhere.
const SEED = Number(process.env.CONTRACT_SEED ?? 12);

/**
 * Fields of an answer that its declared schema does not name: fast-json-stringify drops them without a word, so a
 * handler that means to send one would be silently cut short. Collected for every answer the fuzzer gets.
 */
function undeclared(value: unknown, schema: unknown, at: string, out: string[]): void {
  if (value === null || typeof value !== 'object' || schema === null || typeof schema !== 'object') return;
  const s = schema as {
    properties?: Record<string, unknown>;
    items?: unknown;
    anyOf?: unknown[];
    additionalProperties?: unknown;
  };
  if (s.anyOf) {
    const member = s.anyOf.find((m) => (m as { type?: string }).type === (Array.isArray(value) ? 'array' : 'object'));
    return undeclared(value, member, at, out);
  }
  if (Array.isArray(value)) return value.forEach((item, i) => undeclared(item, s.items, `${at}/${i}`, out));
  if (!s.properties) return;
  for (const [key, child] of Object.entries(value)) {
    if (!(key in s.properties)) {
      if (s.additionalProperties !== true) out.push(`${at}/${key}`);
    } else undeclared(child, s.properties[key], `${at}/${key}`, out);
  }
}

function watchForDroppedFields(app: FastifyInstance, dropped: Set<string>): void {
  app.addHook('preSerialization', async (request, reply, payload) => {
    const declared = (request.routeOptions.schema?.response as Record<string, unknown> | undefined)?.[reply.statusCode];
    const schema =
      (declared as { content?: Record<string, { schema: unknown }> } | undefined)?.content?.['application/json']
        ?.schema ?? declared;
    const out: string[] = [];
    undeclared(payload, schema, '', out);
    for (const field of out) dropped.add(`${request.method} ${request.routeOptions.url} ${reply.statusCode}: ${field}`);
    return payload;
  });
}

const dropped = new Set<string>();
let stack: TestStack;
let locationId: string;
let binary: string;
const tokens: Record<'owner' | 'customer', string> = { owner: '', customer: '' };

beforeAll(async () => {
  // First use installs the pinned Schemathesis from PyPI into the tools folder (a minute at most); later runs reuse it.
  binary = await findSchemathesis(loadConfig(process.env).toolsDir, (msg) => console.log(msg));
  // Errors only: the fuzzer's refused requests would otherwise log hundreds of warnings.
  stack = await startTestStack(
    // Its failed logins would otherwise count against every test's address (127.0.0.1) in the shared database.
    { LOG_LEVEL: 'error', LOGIN_FAILURES_PER_CLIENT: '0' },
    (app) => watchForDroppedFields(app, dropped),
  );
  // Far from every other test's locations, so what the fuzzer creates here shows up in no one else's search.
  locationId = await createLocation(stack.db, {
    name: 'Contract bakery',
    lat: -43.53,
    lng: 172.63,
    delivery_radius_m: 2000,
  });
  await createProduct(stack.db, { name: 'Contract loaf' });
  await createSlot(stack.db, locationId);
  tokens.owner = (await createUser(stack.db, 'owner', { locationIds: [locationId] })).token;
  tokens.customer = (await createCustomer(stack)).token;
}, 240_000);

afterAll(async () => {
  // The production plans the fuzzer made at its location would go on starting runs after this test.
  for await (const schedule of stack?.client.schedule.list() ?? []) {
    if (schedule.scheduleId.startsWith(`production-${locationId}-`))
      await stack.client.schedule.getHandle(schedule.scheduleId).delete();
  }
  await stack?.stop();
});

describe('the API against its OpenAPI document', () => {
  it.each(['owner', 'customer'] as const)(
    'passes every default Schemathesis check as %s',
    async (role) => {
      const run = await runSchemathesis({
        binary,
        baseUrl: stack.baseUrl,
        token: tokens[role],
        maxExamples: MAX_EXAMPLES,
        timeoutMs: TIMEOUT_MS,
        seed: SEED,
      });
      console.log(`Schemathesis as ${role}:\n${run.summary}`);
      // The whole report when it fails: each failure with the curl command that reproduces it.
      expect(run.code, run.output).toBe(0);
      expect(run.summary).toMatch(/Tested: \d+/);
      expect(run.summary).not.toMatch(/Tested: 0\b/);
      expect([...dropped], 'fields the handlers sent that no response schema declares').toEqual([]);
    },
    TIMEOUT_MS + 20_000,
  );
});

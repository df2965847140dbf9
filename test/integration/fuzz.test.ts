// Fuzzes every route of the route table with generated requests: never a 5xx or a hang, and a refused request changes no row and breaks no inventory invariant.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signWebhook } from '../../src/bank/signature.js';
import { checkInventoryInvariants } from '../../src/db/invariants.js';
import { createDb, ensureDatabase, withDatabase } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import {
  ROUTES,
  routeKey,
  seedRouteFixtures,
  type Principal,
  type RouteFixtures,
  type RouteSpec,
} from '../support/routes.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import '../support/context.js';

/** Fixed, so a failure replays; FUZZ_SEED explores other inputs, FUZZ_RUNS more of them per route. */
const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20_240_607);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 40);
/** Pages, docs and probes take only a path and headers; the API routes get the full count. */
const runsFor = (route: RouteSpec) => (route.url.startsWith('/v1/') ? RUNS_PER_ROUTE : Math.ceil(RUNS_PER_ROUTE / 3));
const REQUEST_TIMEOUT_MS = 15_000;

let stack: TestStack;
let fx: RouteFixtures;
let tables: string[];
let cases = 0;

beforeAll(async () => {
  // A database of its own: "no row changed" must see only what these requests do, whatever other test files run meanwhile.
  const serverUrl = inject('databaseUrl');
  const name = `fuzz_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(withDatabase(serverUrl, 'postgres'), name);
  const databaseUrl = withDatabase(serverUrl, name);
  const migrator = createDb(databaseUrl, { max: 1 });
  await migrateLatest(migrator);
  await migrator.destroy();
  // The limits would answer 429 before most inputs reached a handler; they are tested on their own.
  stack = await startTestStack({
    DATABASE_URL: databaseUrl,
    RATE_LIMIT_LOGIN_PER_MINUTE: '0',
    LOGIN_FAILURES_PER_CLIENT: '0',
    RATE_LIMIT_ORDERS_PER_MINUTE: '0',
  });
  fx = await seedRouteFixtures(stack);
  tables = await stack
    .db('pg_tables')
    .where({ schemaname: 'public' })
    .andWhereNot('tablename', 'like', 'knex_%')
    .orderBy('tablename')
    .pluck<string[]>('tablename');
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** A credential's last use is written by the requests it authenticates, reads included: that column is not state. */
const rowsOf = (table: string) =>
  table === 'credentials'
    ? '(SELECT id, user_id, kind, name, token_hash, created_at, expires_at FROM credentials)'
    : `"${table}"`;

/** A digest of every row of every table: any insert, update or delete changes it. */
async function fingerprint(db: Knex): Promise<Record<string, string>> {
  const columns = tables.map(
    (t) => `(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${rowsOf(t)} x) AS "${t}"`,
  );
  const { rows } = await db.raw<{ rows: Record<string, string>[] }>(`SELECT ${columns.join(', ')}`);
  return rows[0]!;
}

function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return tables.filter((t) => before[t] !== after[t]);
}

/**
 * After an accepted request its workflows may still be writing (a placement goes on to charge, the bank answers by
 * webhook); the next baseline waits until the rows have stood still for `quietChecks` looks in a row.
 */
async function settledFingerprint(db: Knex, quietChecks: number): Promise<Record<string, string>> {
  let last = await fingerprint(db);
  let quiet = 0;
  for (let i = 0; i < 80 && quiet < quietChecks; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await fingerprint(db);
    quiet = changedTables(last, now).length === 0 ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

/** Routes whose accepted requests set workflows going that write after the answer. */
const STARTS_WORKFLOWS = new Set([
  'POST /v1/orders',
  'POST /v1/orders/:id/cancel',
  'POST /v1/orders/:id/prep',
  'POST /v1/deliveries/:id/assign',
  'POST /v1/deliveries/:id/pickup',
  'POST /v1/deliveries/:id/complete',
  'POST /v1/webhooks/bank',
]);

// --- generated inputs ---

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\udc00y',
  '\uffff',
  '\u202e',
  '💥🍞',
  'e\u0301',
  '\r\n',
  '\t',
  '../../etc/passwd',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '%00',
  '%',
  '__proto__',
  'constructor',
  'prototype',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  '0x10',
  'null',
  'true',
  '[]',
  '{}',
  '00000000-0000-0000-0000-000000000000',
  'x'.repeat(201),
  'y'.repeat(5_000),
  'ÿ'.repeat(100),
];
const NASTY_NUMBERS = [
  0,
  -0,
  -1,
  1,
  0.5,
  -0.5,
  1e-300,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  90.0000001,
  -180.5,
  100_001,
  10_001,
  1_000_001,
];

/** Any UTF-16 code unit, lone surrogates and NUL included: what a JSON escape can smuggle in. */
const anyCodeUnits = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 })
  .map((codes) => String.fromCharCode(...codes));
// Well-formed ids of nothing get past the schemas to the lookups behind them.
const weirdString = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  anyCodeUnits,
  fc.uuid(),
);
const weirdNumber = fc.oneof(
  fc.constantFrom(...NASTY_NUMBERS),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const weirdScalar = fc.oneof(weirdString, weirdNumber, fc.boolean(), fc.constant(null));
const weirdJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: weirdScalar },
  { weight: 1, arbitrary: fc.array(weirdScalar, { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.dictionary(weirdString, weirdScalar, { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
);
/** Header values fetch can send: Latin-1 without control characters. */
const headerValue = fc.oneof(
  fc.constantFrom(
    '',
    '1',
    '0',
    '-1',
    'x'.repeat(300),
    '99999999999999999999',
    'Bearer',
    'Bearer ',
    'Bearer a b',
    'session=garbage',
    'ÿÿÿ',
  ),
  fc
    .array(
      fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f),
      { maxLength: 80 },
    )
    .map((codes) => String.fromCharCode(...codes)),
);
const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/json, text/plain',
  'application/octet-stream',
  'APPLICATION/JSON',
  'application/json; charset=utf-8',
];

type Json = unknown;

/** Every path into a JSON value: [] is the value itself. */
function pathsOf(value: Json, at: (string | number)[] = []): (string | number)[][] {
  const here = [at];
  // Array.from visits holes too (a mutation may set a huge length), which map would skip and spread as undefined.
  if (Array.isArray(value)) return here.concat(...Array.from(value, (v, i) => pathsOf(v, [...at, i])));
  if (value !== null && typeof value === 'object')
    return here.concat(...Object.entries(value).map(([k, v]) => pathsOf(v, [...at, k])));
  return here;
}

type Mutation = { op: 'delete' | 'replace' | 'add'; pathIndex: number; key: string; value: Json };

function mutate(value: Json, m: Mutation): Json {
  const copy = structuredClone(value) as Json;
  const paths = pathsOf(copy);
  const path = paths[m.pathIndex % paths.length]!;
  if (path.length === 0)
    return m.op === 'replace'
      ? m.value
      : m.op === 'add' && copy !== null && typeof copy === 'object'
        ? Object.assign(copy, { [m.key]: m.value })
        : copy;
  let parent = copy as Record<string | number, Json>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, Json>;
  const last = path.at(-1)!;
  if (m.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (m.op === 'replace') {
    parent[last] = m.value;
  } else {
    const target = parent[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target))
      (target as Record<string, Json>)[m.key] = m.value;
    else parent[last] = { [m.key]: m.value };
  }
  return copy;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One leaf replaced by a value of its own kind (an id by another id, a number by an edge case), so the body still passes the schema often and reaches the handler. */
function plausibleMutation(sample: Json): fc.Arbitrary<Json> {
  const leaves = pathsOf(sample).filter((path) => {
    const value = path.reduce<Json>((v, step) => (v as Record<string | number, Json>)[step], sample);
    return value === null || typeof value !== 'object';
  });
  if (leaves.length === 0) return fc.constant(sample);
  return fc.nat({ max: leaves.length - 1 }).chain((i) => {
    const path = leaves[i]!;
    const old = path.reduce<Json>((v, step) => (v as Record<string | number, Json>)[step], sample);
    const values: fc.Arbitrary<unknown> =
      typeof old === 'number'
        ? weirdNumber
        : typeof old === 'string' && UUID.test(old)
          ? fc.uuid()
          : typeof old === 'string'
            ? weirdString
            : weirdScalar;
    return values.map((value) =>
      mutate(sample, {
        op: 'replace',
        pathIndex: pathsOf(sample).findIndex((p) => p.join('\u0001') === path.join('\u0001')),
        key: '',
        value,
      }),
    );
  });
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('delete', 'replace', 'add'),
  pathIndex: fc.nat(),
  key: weirdString,
  value: weirdJson,
});

/** A request body as bytes and its content type; undefined sends none. */
type BodyCase = { contentType: string | undefined; text: string | undefined };

function bodyCase(sample: Json | undefined): fc.Arbitrary<BodyCase> {
  const json = (text: string | undefined): BodyCase => ({ contentType: 'application/json', text });
  return fc.oneof(
    {
      weight: 4,
      arbitrary:
        sample === undefined
          ? weirdJson.map((v) => json(JSON.stringify(v)))
          : fc
              .array(mutation, { minLength: 1, maxLength: 3 })
              .map((ms) => json(JSON.stringify(ms.reduce(mutate, sample)))),
    },
    {
      weight: 4,
      arbitrary:
        sample === undefined
          ? weirdJson.map((v) => json(JSON.stringify(v)))
          : plausibleMutation(sample).map((v) => json(JSON.stringify(v))),
    },
    { weight: 2, arbitrary: weirdJson.map((v) => json(JSON.stringify(v))) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.string({ maxLength: 80 }),
          fc.constantFrom(
            '{',
            '[',
            '{"a":}',
            '{"a":1,}',
            'nul',
            '"\\ud800"',
            '{"__proto__":{"x":1}}',
            '{"constructor":{"prototype":{}}}',
            '1e400',
            '-1e400',
            '[1e999]',
            '{"a":"\\u0000"}',
            '\ufeff{}',
          ),
        )
        .map(json),
    },
    {
      weight: 1,
      // Deep nesting, up to past the body limit.
      arbitrary: fc
        .record({ depth: fc.integer({ min: 50, max: 40_000 }), object: fc.boolean() })
        .map(({ depth, object }) =>
          json(object ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 64 * 1024 - 16, max: 200 * 1024 })
        .map((size) => json(JSON.stringify({ pad: 'x'.repeat(size) }))),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...CONTENT_TYPES)
        .map((contentType) => ({ contentType, text: JSON.stringify(sample ?? {}) })),
    },
    { weight: 1, arbitrary: fc.constant<BodyCase>({ contentType: undefined, text: undefined }) },
    { weight: 1, arbitrary: fc.constant<BodyCase>({ contentType: 'application/json', text: '' }) },
  );
}

function pathCase(route: RouteSpec, samplePath: string): fc.Arbitrary<string> {
  // OPTIONS * matches any path: vary its last segment.
  const params =
    route.url === '*'
      ? [samplePath.split('/').length - 1]
      : route.url
          .split('/')
          .map((segment, i) => (segment.startsWith(':') || segment === '*' ? i : -1))
          .filter((i) => i >= 0);
  if (params.length === 0) return fc.constant(samplePath);
  const encode = (s: string) => {
    try {
      return encodeURIComponent(s);
    } catch {
      // A lone surrogate cannot be encoded as UTF-8; send its raw WTF-8 bytes instead.
      return [...s].map((c) => `%${(c.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`).join('');
    }
  };
  const replacement = fc.oneof(
    fc.uuid().map((u) => u.toUpperCase()),
    fc.uuid(),
    weirdString.map(encode),
    fc.constantFrom('%', '%zz', '%ED%A0%80', '%00', '..', '.', '%2F', 'a'.repeat(120)),
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(samplePath) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom(...params), replacement).map(([index, value]) => {
        const segments = samplePath.split('/');
        segments[index] = value;
        return segments.join('/');
      }),
    },
  );
}

function queryCase(sample: Record<string, string> | undefined): fc.Arbitrary<string> {
  const base = sample ?? {};
  const encoded = (q: Record<string, string>) => new URLSearchParams(q).toString().replace(/%EF%BF%BD/g, '%ED%A0%80');
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(encoded(base)) },
    {
      weight: 4,
      arbitrary: fc
        .record({
          key: fc.oneof(
            fc.constantFrom(
              ...Object.keys(base),
              'q',
              'limit',
              'cursor',
              'deliverBy',
              'from',
              'to',
              'status',
              'lat',
              'lng',
            ),
            weirdString,
          ),
          value: fc.oneof(weirdString, weirdNumber.map(String)),
          drop: fc.boolean(),
        })
        .map(({ key, value, drop }) => {
          const q = { ...base, [key]: value };
          if (drop) delete q[Object.keys(base)[0] ?? key];
          return encoded(q);
        }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'lat=1&lat=2&lng=3',
        'lat=%',
        '%zz=1',
        'lat=1&lng=1&limit=1e2',
        'lat=&lng=',
        'lat[]=1&lng=1',
        'cursor=WyJcdTAwMDAiLCIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAiXQ',
        'from=2016-12-31T23:59:60Z',
        'deliverBy=2016-12-31T23:59:60Z&lat=1&lng=1',
      ),
    },
  );
}

interface FuzzCase {
  principal: Principal;
  /** For the webhook: sign the body as the bank would, so inputs get past the signature to the parser. */
  signed: boolean;
  path: string;
  query: string;
  body: BodyCase;
  headers: Record<string, string>;
}

function caseFor(route: RouteSpec): fc.Arbitrary<FuzzCase> {
  const allowed = (Object.entries(route.access) as [Principal, number][])
    .filter(([, status]) => status < 400)
    .map(([p]) => p);
  const principal = fc.oneof(
    {
      weight: allowed.length > 0 ? 4 : 0,
      arbitrary: fc.constantFrom(...(allowed.length > 0 ? allowed : ['anonymous' as const])),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Principal>(
        'anonymous',
        'customer',
        'otherCustomer',
        'owner',
        'otherOwner',
        'driver',
        'otherDriver',
        'operator',
      ),
    },
  );
  return principal.chain((p) => {
    const sample = route.sample(fx, p);
    const takesBody = route.method !== 'GET' && route.method !== 'OPTIONS';
    return fc.record({
      principal: fc.constant(p),
      signed: fc.boolean(),
      path: pathCase(route, sample.path),
      query: queryCase(sample.query),
      body: takesBody ? bodyCase(sample.body) : fc.constant<BodyCase>({ contentType: undefined, text: undefined }),
      headers: fc
        .tuple(
          fc.oneof(
            { weight: 2, arbitrary: fc.constant({}) },
            {
              weight: 1,
              arbitrary: fc.dictionary(
                fc.constantFrom(
                  'idempotency-key',
                  'last-event-id',
                  'x-csrf',
                  'cookie',
                  'authorization',
                  'accept',
                  'origin',
                ),
                headerValue,
                { maxKeys: 3 },
              ),
            },
          ),
          fc.option(fc.uuid()),
        )
        // A fresh Idempotency-Key most of the time, so a placement is not just a replay of the first one.
        .map(([extra, freshKey]) => ({
          ...sample.headers,
          ...(sample.headers?.['idempotency-key'] && freshKey ? { 'idempotency-key': `fuzz-${freshKey}` } : {}),
          ...extra,
        })),
    });
  });
}

/** Sends one case; a stream is judged by its status and closed at once. */
async function sendCase(route: RouteSpec, c: FuzzCase): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = {};
  if (c.principal !== 'anonymous') headers.authorization = `Bearer ${fx.users[c.principal].token}`;
  Object.assign(headers, c.headers);
  if (c.body.contentType !== undefined) headers['content-type'] = c.body.contentType;
  if (route.url === '/v1/webhooks/bank' && c.signed) {
    headers['bank-signature'] = signWebhook(
      stack.config.bank.webhookSecrets[0]!,
      Math.floor(Date.now() / 1000),
      c.body.text ?? '',
    );
  }
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)),
    REQUEST_TIMEOUT_MS,
  );
  try {
    const res = await fetch(`${stack.baseUrl}${c.path}${c.query ? `?${c.query}` : ''}`, {
      method: route.method,
      headers,
      body: c.body.text,
      redirect: 'manual',
      signal: controller.signal,
    });
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      controller.abort();
      return { status: res.status, body: '' };
    }
    return { status: res.status, body: await res.text() };
  } finally {
    clearTimeout(timer);
  }
}

/** A refusal the business records on purpose: a placement the workflow turned down is kept as a rejected order. */
function isRecordedRefusal(route: RouteSpec, status: number): boolean {
  return routeKey(route) === 'POST /v1/orders' && status === 409;
}

let baseline: Record<string, string>;

/**
 * Sends one case and holds it to the bar: never a 5xx or a hang, refusals in the one error shape, reads change
 * nothing, refusals change nothing; an accepted change becomes the new baseline. Returns the status.
 */
async function judge(route: RouteSpec, c: FuzzCase): Promise<number> {
  cases++;
  const before = baseline;
  const res = await sendCase(route, c);
  const label = `${route.method} ${c.path}?${c.query} as ${c.principal} → ${res.status} ${res.body.slice(0, 300)}`;
  if (res.status >= 500) throw new Error(`server error: ${label}`);
  if (res.status >= 400) {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(res.body) as Record<string, unknown>;
    } catch {
      // judged below
    }
    if (
      typeof body.error !== 'string' ||
      typeof body.message !== 'string' ||
      Object.keys(body).some((k) => !['error', 'message', 'details'].includes(k))
    ) {
      throw new Error(`not the error shape: ${label}`);
    }
  }
  const reads = route.method === 'GET' || route.method === 'OPTIONS';
  if (reads || (res.status >= 400 && !isRecordedRefusal(route, res.status))) {
    const changed = changedTables(before, await fingerprint(stack.db));
    if (changed.length > 0)
      throw new Error(`a ${reads ? 'read' : 'refused request'} changed ${changed.join(', ')}: ${label}`);
  } else {
    // A production plan would bake on its own later, in the middle of other checks: stop it at once.
    if (routeKey(route) === 'PUT /v1/locations/:id/production/:productId' && res.status === 200) {
      await stack.api('DELETE', c.path, { token: fx.users.owner.token });
    }
    // Other handlers have written all they write by the time they answer.
    baseline = STARTS_WORKFLOWS.has(routeKey(route))
      ? await settledFingerprint(stack.db, 4)
      : await fingerprint(stack.db);
  }
  return res.status;
}

const routeNamed = (key: string) => ROUTES.find((r) => routeKey(r) === key)!;
const json = (value: unknown): BodyCase => ({ contentType: 'application/json', text: JSON.stringify(value) });
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Inputs found by hand or by earlier runs, sent every time under the same bar, so a fix cannot quietly regress. */
function knownEdgeCases(): [string, Partial<FuzzCase> & { path: string }, number][] {
  const order = {
    locationId: fx.locationId,
    slotId: fx.slotId,
    items: [{ productId: fx.productId, quantity: 1 }],
    address: { lat: 51.5, lng: -0.1, line1: 'Edge Street' },
  };
  const nobody = '00000000-0000-4000-8000-000000000000';
  const key = () => ({ 'idempotency-key': `edge-${randomBytes(8).toString('hex')}` });
  const leap = '2016-12-31T23:59:60Z';
  return [
    // A refused placement must not leave its Idempotency-Key claimed.
    [
      'POST /v1/orders',
      { principal: 'customer', path: '/v1/orders', body: json({ ...order, locationId: nobody }), headers: key() },
      422,
    ],
    [
      'POST /v1/orders',
      { principal: 'customer', path: '/v1/orders', body: json({ ...order, slotId: nobody }), headers: key() },
      422,
    ],
    [
      'POST /v1/orders',
      {
        principal: 'customer',
        path: '/v1/orders',
        body: json({ ...order, items: [{ productId: nobody, quantity: 1 }] }),
        headers: key(),
      },
      422,
    ],
    [
      'POST /v1/orders',
      {
        principal: 'customer',
        path: '/v1/orders',
        body: json({ ...order, address: { lat: 0, lng: 0, line1: 'Null Island' } }),
        headers: key(),
      },
      422,
    ],
    [
      'POST /v1/orders',
      {
        principal: 'customer',
        path: '/v1/orders',
        body: json({ ...order, address: { ...order.address, line1: 'a\u0000b' } }),
        headers: key(),
      },
      400,
    ],
    [
      'POST /v1/orders',
      {
        principal: 'customer',
        path: '/v1/orders',
        body: { contentType: 'application/json', text: JSON.stringify(order).replace('Edge Street', 'Edge \\udc00') },
        headers: key(),
      },
      400,
    ],
    [
      'POST /v1/orders',
      {
        principal: 'customer',
        path: '/v1/orders',
        body: json({ ...order, items: Array.from({ length: 51 }, () => ({ productId: nobody, quantity: 1 })) }),
      },
      400,
    ],
    [
      'POST /v1/orders',
      {
        principal: 'customer',
        path: '/v1/orders',
        body: json({ ...order, items: [{ productId: fx.productId, quantity: 101 }] }),
      },
      400,
    ],
    // Leap seconds pass the stock date-time format but are no JavaScript date.
    ['GET /v1/availability', { path: '/v1/availability', query: `lat=51.5&lng=-0.1&deliverBy=${leap}` }, 400],
    ['GET /v1/locations/:id/slots', { path: `/v1/locations/${fx.locationId}/slots`, query: `from=${leap}` }, 400],
    [
      'GET /v1/locations/:id/slots',
      { path: `/v1/locations/${fx.locationId}/slots`, query: 'from=2024-02-30T00:00:00Z' },
      400,
    ],
    [
      'PATCH /v1/locations/:id/slots/:slotId',
      { principal: 'owner', path: `/v1/locations/${fx.locationId}/slots/${fx.slotId}`, body: json({ cutoffAt: leap }) },
      400,
    ],
    [
      'POST /v1/locations/:id/stock',
      {
        principal: 'owner',
        path: `/v1/locations/${fx.locationId}/stock`,
        body: json({ productId: fx.productId, quantity: 1, producedAt: leap }),
      },
      400,
    ],
    // A refused lot must not leave its Idempotency-Key claimed either.
    [
      'POST /v1/locations/:id/stock',
      {
        principal: 'owner',
        path: `/v1/locations/${fx.locationId}/stock`,
        body: json({ productId: nobody, quantity: 1 }),
        headers: key(),
      },
      422,
    ],
    // Text Postgres cannot store, in a query, a cursor and a body.
    ['GET /v1/availability', { path: '/v1/availability', query: 'lat=51.5&lng=-0.1&q=%00' }, 400],
    [
      'GET /v1/availability',
      { path: '/v1/availability', query: `lat=51.5&lng=-0.1&cursor=${cursorOf(['\u0000', nobody])}` },
      400,
    ],
    [
      'GET /v1/availability',
      { path: '/v1/availability', query: `lat=51.5&lng=-0.1&cursor=${cursorOf(['\ud800', nobody])}` },
      400,
    ],
    [
      'POST /v1/products',
      {
        principal: 'operator',
        path: '/v1/products',
        body: json({ name: 'bun\u0000', priceCents: 1, shelfLifeMinutes: 1 }),
      },
      400,
    ],
    [
      'POST /v1/locations',
      {
        principal: 'operator',
        path: '/v1/locations',
        body: json({ name: 'x', kind: 'dc', lat: 0, lng: 0, deliveryRadiusM: 1, timezone: 'Europe/\u0000' }),
      },
      400,
    ],
    // A JSON body is taken as sent: null is no string and "5" no integer (the query string alone is coerced).
    [
      'POST /v1/products',
      {
        principal: 'operator',
        path: '/v1/products',
        body: json({ name: 'bun', description: null, priceCents: 1, shelfLifeMinutes: 1 }),
      },
      400,
    ],
    [
      'POST /v1/products',
      {
        principal: 'operator',
        path: '/v1/products',
        body: json({ name: 'bun', priceCents: '5', shelfLifeMinutes: 1 }),
      },
      400,
    ],
    [
      'POST /v1/orders',
      {
        principal: 'customer',
        path: '/v1/orders',
        body: json({ ...order, items: [{ productId: fx.productId, quantity: '1' }] }),
      },
      400,
    ],
    ['GET /v1/availability', { path: '/v1/availability', query: 'lat=51.5&lng=-0.1&limit=5' }, 200],
    // URLs Fastify refuses before routing keep the error shape.
    ['GET /v1/orders/:id', { principal: 'operator', path: '/v1/orders/%zz' }, 400],
    ['GET /v1/orders/:id', { principal: 'operator', path: `/v1/orders/${'a'.repeat(150)}` }, 414],
    // A signed event the bank could never send: refused, not retried forever.
    [
      'POST /v1/webhooks/bank',
      {
        signed: true,
        path: '/v1/webhooks/bank',
        body: json({
          id: 'evt\u0000',
          type: 'charge.approved',
          createdAt: 'now',
          data: { chargeId: 'c', reference: fx.orders.read, amountCents: 1, status: 'approved' },
        }),
      },
      400,
    ],
    [
      'POST /v1/webhooks/bank',
      {
        signed: true,
        path: '/v1/webhooks/bank',
        body: {
          contentType: 'application/json',
          text: '{"id":"e","type":"charge.approved","createdAt":"now","data":{"chargeId":"c","reference":"r","amountCents":1e400,"status":"approved"}}',
        },
      },
      400,
    ],
  ];
}

describe('fuzzing every route', () => {
  beforeAll(async () => {
    expect(await checkInventoryInvariants(stack.db)).toEqual([]);
    baseline = await settledFingerprint(stack.db, 4);
  });

  afterAll(() => {
    console.info(
      `fuzz: ${cases} requests over ${ROUTES.length} routes (seed ${BASE_SEED}, up to ${RUNS_PER_ROUTE} generated per route, plus known edge cases)`,
    );
  });

  it('holds for the known edge cases', async () => {
    for (const [key, partial, status] of knownEdgeCases()) {
      const c: FuzzCase = {
        principal: 'anonymous',
        signed: false,
        query: '',
        body: { contentType: undefined, text: undefined },
        headers: {},
        ...partial,
      };
      expect(await judge(routeNamed(key), c), `${key} ${c.path}?${c.query} ${c.body.text ?? ''}`).toBe(status);
    }
    expect(await checkInventoryInvariants(stack.db)).toEqual([]);
  });

  ROUTES.forEach((route, index) => {
    it(routeKey(route), async () => {
      const seed = BASE_SEED + index;
      let refused = 0;
      const property = fc.asyncProperty(caseFor(route), async (c) => {
        if ((await judge(route, c)) >= 400) refused++;
      });
      try {
        await fc.assert(property, { seed, numRuns: runsFor(route), endOnFailure: true });
      } catch (err) {
        const cause = (err as Error).cause instanceof Error ? `\n${((err as Error).cause as Error).message}` : '';
        throw new Error(
          `${routeKey(route)} failed with seed ${seed} (FUZZ_SEED=${BASE_SEED}): ${(err as Error).message}${cause}`,
        );
      }
      expect(await checkInventoryInvariants(stack.db)).toEqual([]);
      // Every API route must see refusals, or the generators only exercised the happy path.
      if (route.url.startsWith('/v1/')) expect(refused).toBeGreaterThan(0);
    });
  });
});

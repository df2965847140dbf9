// The OpenAPI document behind /docs: every route the app serves is in it, with tags, a summary, response schemas and examples that fit them.
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { rateLimitedRoutes } from '../../src/api/plugins/security.js';
import { loadConfig } from '../../src/config.js';
import { createDb } from '../../src/db/knex.js';
import {
  DELIVERY_STATUSES,
  EVENT_TYPES,
  KITCHEN_EVENT_TYPES,
  LOCATION_KINDS,
  ORDER_REASONS,
  ORDER_STATUSES,
  ROLES,
  STAFF_ROLES,
  SLOT_STATUSES,
  WEBHOOK_DELIVERY_STATUSES,
  WEBHOOK_EVENT_TYPES,
} from '../../src/domain/vocabulary.js';

interface MediaType {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Parameter {
  in: string;
  name: string;
  schema?: Record<string, unknown>;
}
interface Operation {
  tags?: string[];
  summary?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}
type Paths = Record<string, Record<string, Operation>>;

/** Served to browsers, not API clients: the pages and the documentation UI itself. */
const NOT_API = [
  /^\/$/,
  /^\/(order|owner|driver|invitation\.html)$/,
  /^\/board\/:locationId$/,
  /^\/assets\//,
  /^\/docs(\/|$)/,
];

let app: FastifyInstance;
let db: Knex;
let paths: Paths;
let config: ReturnType<typeof loadConfig>;

beforeAll(async () => {
  // Nothing here touches the network: the database pool and the Temporal connection are lazy.
  config = loadConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', TEMPORAL_ADDRESS: '127.0.0.1:1' });
  db = createDb(config.databaseUrl!);
  const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  app = await buildApp({ config, db, temporal, logger: false });
  const res = await app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  paths = res.json<{ paths: Paths }>().paths;
});

afterAll(async () => {
  await app?.close();
  await db?.destroy();
});

/** Every method and URL the router knows, read from printRoutes' tree (each line adds its segment to its parent's). */
function registeredRoutes(tree: string): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)(?:[├└]── )?(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match || !match[2]) continue;
    // Four characters of indentation per level; the root line has none.
    stack.length = match[1]!.length / 4;
    const url = (stack.at(-1) ?? '') + match[2];
    stack.push(url);
    for (const method of (match[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean))
      routes.push({ method, url });
  }
  return routes;
}

const openapiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

function operations(): { key: string; operation: Operation }[] {
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, operation })),
  );
}

/** The events of a text/event-stream, as an SSE client (and Schemathesis) reads them: one object per block of fields. */
function sseEvents(text: string): Record<string, string | number>[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .flatMap((block) => {
      const fields: Record<string, string | number> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const at = line.indexOf(':');
        const [name, value] = at < 0 ? [line, ''] : [line.slice(0, at), line.slice(at + 1).replace(/^ /, '')];
        fields[name] =
          name === 'retry' ? Number(value) : fields[name] === undefined ? value : `${fields[name]}\n${value}`;
      }
      return Object.keys(fields).length > 0 ? [fields] : [];
    });
}

/** The values an enum-typed schema admits (through anyOf, oneOf, const and nullable), or undefined if it is not an enum. */
function enumValues(schema: unknown): unknown[] | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum)) return s.enum.filter((v) => v !== null);
  if ('const' in s) return [s.const];
  const members = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (!members) return undefined;
  const nonNull = members.filter((m) => (m as { type?: string }).type !== 'null');
  const each = nonNull.map(enumValues);
  return each.every((values) => values !== undefined) ? [...new Set(each.flat())] : undefined;
}

/** Every property of a schema, however deep, with the path to it. */
function properties(schema: unknown, at: string, out: { at: string; name: string; schema: unknown }[] = []) {
  if (Array.isArray(schema)) schema.forEach((s, i) => properties(s, `${at}[${i}]`, out));
  else if (schema !== null && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
      if (key === 'properties' && value && typeof value === 'object') {
        for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
          out.push({ at: `${at}.${name}`, name, schema: child });
          properties(child, `${at}.${name}`, out);
        }
      } else properties(value, at, out);
    }
  }
  return out;
}

/** OpenAPI 3.0's `nullable` as the JSON Schema the validator reads. */
function jsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const { nullable, example: _example, ...rest } = schema as Record<string, unknown>;
  const converted = Object.fromEntries(
    Object.entries(rest).map(([key, value]) => [
      key,
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as object).map(([name, s]) => [name, jsonSchema(s)]))
        : jsonSchema(value),
    ]),
  );
  return nullable ? { anyOf: [converted, { type: 'null' }] } : converted;
}

describe('the OpenAPI document at /docs/json', () => {
  it('lists every API route the app serves, and nothing it does not serve', () => {
    const routes = registeredRoutes(app.printRoutes({ commonPrefix: false }))
      // HEAD answers every GET by itself; OPTIONS answers CORS preflights for every path.
      .filter(
        ({ method, url }) => method !== 'HEAD' && method !== 'OPTIONS' && !NOT_API.some((pattern) => pattern.test(url)),
      );
    // Guards the parsing: if it found nothing, the comparison below would prove nothing.
    expect(routes.length).toBeGreaterThan(25);
    expect(routes).toContainEqual({ method: 'GET', url: '/v1/orders/:id/events' });
    expect(routes).toContainEqual({ method: 'GET', url: '/metrics' });

    const served = routes.map(({ method, url }) => `${method} ${openapiPath(url)}`).sort();
    const documented = operations()
      .map(({ key }) => key)
      .sort();
    expect(documented).toEqual(served);
  });

  it('gives every operation a tag, a summary and a schema for every response it declares', () => {
    const problems: string[] = [];
    for (const { key, operation } of operations()) {
      if (!operation.tags?.length) problems.push(`${key}: no tag`);
      if (!operation.summary?.trim()) problems.push(`${key}: no summary`);
      const statuses = Object.keys(operation.responses ?? {});
      if (!statuses.some((status) => status.startsWith('2'))) problems.push(`${key}: no success response`);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        // 204 is the only answer without a body.
        if (status !== '204' && !Object.values(response.content ?? {}).some((media) => media.schema))
          problems.push(`${key} ${status}: no schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('shows an example for every request body and response, and each example fits its schema', () => {
    const problems: string[] = [];
    let checked = 0;
    const check = (where: string, media: MediaType) => {
      let examples =
        media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => e.value);
      if (examples.length === 0) return problems.push(`${where}: no example`);
      // An event stream's schema describes each of its events, as a client reads them.
      if (where.endsWith('text/event-stream')) {
        examples = examples.flatMap((example) => (typeof example === 'string' ? sseEvents(example) : [example]));
        for (const event of examples as Record<string, string>[]) {
          if (event.data !== undefined) {
            try {
              JSON.parse(String(event.data));
            } catch {
              problems.push(`${where}: event data is not JSON: ${event.data}`);
            }
          }
        }
      }
      const validator = Compile(jsonSchema(media.schema ?? {}) as never);
      for (const example of examples) {
        checked += 1;
        const [first] = validator.Errors(example);
        if (first)
          problems.push(`${where}: example does not fit the schema at ${first.instancePath || '/'}: ${first.message}`);
      }
    };
    for (const { key, operation } of operations()) {
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {}))
        check(`${key} body ${type}`, media);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, media] of Object.entries(response.content ?? {})) check(`${key} ${status} ${type}`, media);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('documents 400 on every operation that takes input, and 414 on every one with a path parameter', () => {
    const problems: string[] = [];
    for (const { key, operation } of operations()) {
      const statuses = Object.keys(operation.responses ?? {});
      const takesInput =
        (operation.parameters ?? []).length > 0 ||
        operation.requestBody !== undefined ||
        /^(POST|PUT|PATCH|DELETE) /.test(key);
      if (takesInput && !statuses.includes('400')) problems.push(`${key}: no 400`);
      if ((operation.parameters ?? []).some((p) => p.in === 'path') && !statuses.includes('414'))
        problems.push(`${key}: no 414`);
      if (operation.requestBody !== undefined && !(statuses.includes('413') && statuses.includes('415')))
        problems.push(`${key}: no 413 or 415`);
      // The bearer-token lookup alone needs Postgres, on every route.
      if (!statuses.includes('503')) problems.push(`${key}: no 503`);
    }
    expect(problems).toEqual([]);
  });

  it('marks no parameter with a default as required (the server fills it in)', () => {
    const required = operations().flatMap(({ key, operation }) =>
      (operation.parameters ?? [])
        .filter((p) => (p as { required?: boolean }).required && p.schema?.default !== undefined)
        .map((p) => `${key} ${p.in} ${p.name}`),
    );
    expect(required).toEqual([]);
  });

  it('documents 401 and 403 on every operation that needs a token, and 401 on every other (a bad token is refused everywhere)', () => {
    const problems: string[] = [];
    let authenticated = 0;
    for (const { key, operation } of operations()) {
      const statuses = Object.keys(operation.responses ?? {});
      if (!statuses.includes('401')) problems.push(`${key}: no 401`);
      if (operation.security?.length) {
        authenticated += 1;
        if (!statuses.includes('403')) problems.push(`${key}: no 403`);
      }
    }
    expect(problems).toEqual([]);
    expect(authenticated).toBeGreaterThan(15);
  });

  it('documents 429 on the rate-limited operations and on no other', () => {
    const limited = Object.keys(rateLimitedRoutes(config.rateLimits))
      .map((key) => key.replace(/:(\w+)/g, '{$1}'))
      .sort();
    expect(limited).toEqual([
      'POST /v1/accounts',
      'POST /v1/invitations/{token}/accept',
      'POST /v1/orders',
      'POST /v1/session',
    ]);
    const documented = operations()
      .filter(({ operation }) => operation.responses?.['429'])
      .map(({ key }) => key)
      .sort();
    expect(documented).toEqual(limited);
  });

  it('types every status, reason, kind, role and event type as an enum of the vocabulary', () => {
    const found: Record<string, unknown[]> = {};
    const problems: string[] = [];
    const allowed: Record<string, unknown[][]> = {
      status: [
        [...ORDER_STATUSES],
        [...DELIVERY_STATUSES],
        [...SLOT_STATUSES],
        [...ORDER_STATUSES, ...DELIVERY_STATUSES],
        [...WEBHOOK_DELIVERY_STATUSES],
      ],
      reason: [[...ORDER_REASONS]],
      kind: [[...LOCATION_KINDS]],
      role: [[...ROLES], [...STAFF_ROLES]],
      type: [[...EVENT_TYPES], [...WEBHOOK_EVENT_TYPES], [...KITCHEN_EVENT_TYPES]],
    };
    // Health answers speak of the process, not of orders.
    const own: Record<string, unknown[]> = { 'GET /healthz': ['ok'], 'GET /readyz': ['ready', 'unavailable'] };
    for (const { key, operation } of operations()) {
      const schemas: { at: string; name: string; schema: unknown }[] = [];
      for (const parameter of operation.parameters ?? [])
        schemas.push({
          at: `${key} ${parameter.in} ${parameter.name}`,
          name: parameter.name,
          schema: parameter.schema,
        });
      for (const media of Object.values(operation.requestBody?.content ?? {}))
        properties(media.schema, `${key} body`, schemas);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const media of Object.values(response.content ?? {}))
          properties(media.schema, `${key} ${status}`, schemas);
      }
      for (const { at, name, schema } of schemas) {
        if (!(name in allowed)) continue;
        // The bank's webhook body is the bank's vocabulary, not ours.
        if (key === 'POST /v1/webhooks/bank') continue;
        const values = enumValues(schema);
        found[at] = values ?? [];
        if (!values) {
          problems.push(`${at}: not an enum`);
          continue;
        }
        const fits = own[key]?.length === values.length && values.every((v) => own[key]!.includes(v));
        // A request may name a part of a list (prep: prepping or prepped; an SSE stream its own event names).
        const isPart = at.includes(' body.') || at.includes(' query ') || at.includes('text/event-stream');
        if (
          !fits &&
          !allowed[name]!.some((list) =>
            isPart
              ? values.every((v) => list.includes(v))
              : list.length === values.length && list.every((v) => values.includes(v)),
          )
        ) {
          problems.push(`${at}: ${JSON.stringify(values)} is not one of the vocabulary's lists`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(found['GET /v1/orders/{id} 200.status']).toEqual([...ORDER_STATUSES]);
    expect(found['GET /v1/orders/{id} 200.reason']).toEqual([...ORDER_REASONS]);
    expect(found['GET /v1/orders/{id} 200.timeline.type']).toEqual([...EVENT_TYPES]);
    expect(found['GET /v1/deliveries 200.deliveries.status']).toEqual([...DELIVERY_STATUSES]);
    expect(found['GET /v1/deliveries query status']).toEqual([...DELIVERY_STATUSES]);
    expect(found['GET /v1/locations/{id}/slots 200.slots.status']).toEqual([...SLOT_STATUSES]);
    expect(found['GET /v1/locations 200.items.kind']).toEqual([...LOCATION_KINDS]);
    expect(found['POST /v1/locations body.kind']).toEqual([...LOCATION_KINDS]);
    expect(found['GET /v1/session 200.user.role']).toEqual([...ROLES]);
    expect(found['GET /v1/dashboard 200.orders.status']).toEqual([...ORDER_STATUSES]);
  });

  it('documents the signed bank webhook body, which the route reads as raw bytes', () => {
    const body = paths['/v1/webhooks/bank']?.post?.requestBody?.content?.['application/json'];
    expect(body?.schema).toMatchObject({ required: ['id', 'type', 'createdAt', 'data'] });
  });

  it('documents the signed kitchen message body, which the route reads as raw bytes', () => {
    const body = paths['/v1/integrations/kitchen/{locationId}']?.post?.requestBody?.content?.['application/json'];
    expect(body?.schema).toMatchObject({ required: ['type', 'data'] });
    expect(enumValues((body?.schema?.properties as Record<string, unknown>).type)).toEqual([...KITCHEN_EVENT_TYPES]);
  });

  it('serves the documentation UI at /docs', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});

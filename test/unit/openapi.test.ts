// The OpenAPI document behind /docs: every route the app serves is in it, with tags, a summary, response schemas and examples that fit them.
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { createDb } from '../../src/db/knex.js';

interface MediaType {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  tags?: string[];
  summary?: string;
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}
type Paths = Record<string, Record<string, Operation>>;

/** Served to browsers, not API clients: the pages and the documentation UI itself. */
const NOT_API = [/^\/$/, /^\/(order|owner|driver)$/, /^\/board\/:locationId$/, /^\/assets\//, /^\/docs(\/|$)/];

let app: FastifyInstance;
let db: Knex;
let paths: Paths;

beforeAll(async () => {
  // Nothing here touches the network: the database pool and the Temporal connection are lazy.
  const config = loadConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', TEMPORAL_ADDRESS: '127.0.0.1:1' });
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
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean)) routes.push({ method, url });
  }
  return routes;
}

const openapiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

function operations(): { key: string; operation: Operation }[] {
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, operation })),
  );
}

/** OpenAPI 3.0's `nullable` as the JSON Schema the validator reads. */
function jsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const { nullable, example: _example, ...rest } = schema as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([name, s]) => [name, jsonSchema(s)])) : jsonSchema(value)]));
  return nullable ? { anyOf: [converted, { type: 'null' }] } : converted;
}

describe('the OpenAPI document at /docs/json', () => {
  it('lists every API route the app serves, and nothing it does not serve', () => {
    const routes = registeredRoutes(app.printRoutes({ commonPrefix: false }))
      // HEAD answers every GET by itself; OPTIONS answers CORS preflights for every path.
      .filter(({ method, url }) => method !== 'HEAD' && method !== 'OPTIONS' && !NOT_API.some((pattern) => pattern.test(url)));
    // Guards the parsing: if it found nothing, the comparison below would prove nothing.
    expect(routes.length).toBeGreaterThan(25);
    expect(routes).toContainEqual({ method: 'GET', url: '/v1/orders/:id/events' });
    expect(routes).toContainEqual({ method: 'GET', url: '/metrics' });

    const served = routes.map(({ method, url }) => `${method} ${openapiPath(url)}`).sort();
    const documented = operations().map(({ key }) => key).sort();
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
        if (status !== '204' && !Object.values(response.content ?? {}).some((media) => media.schema)) problems.push(`${key} ${status}: no schema`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('shows an example for every request body and response, and each example fits its schema', () => {
    const problems: string[] = [];
    let checked = 0;
    const check = (where: string, media: MediaType) => {
      const examples = media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => e.value);
      if (examples.length === 0) return problems.push(`${where}: no example`);
      const validator = Compile(jsonSchema(media.schema ?? {}) as never);
      for (const example of examples) {
        checked += 1;
        const [first] = validator.Errors(example);
        if (first) problems.push(`${where}: example does not fit the schema at ${first.instancePath || '/'}: ${first.message}`);
      }
    };
    for (const { key, operation } of operations()) {
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) check(`${key} body ${type}`, media);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, media] of Object.entries(response.content ?? {})) check(`${key} ${status} ${type}`, media);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('documents the signed bank webhook body, which the route reads as raw bytes', () => {
    const body = paths['/v1/webhooks/bank']?.post?.requestBody?.content?.['application/json'];
    expect(body?.schema).toMatchObject({ required: ['id', 'type', 'createdAt', 'data'] });
  });

  it('serves the documentation UI at /docs', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});

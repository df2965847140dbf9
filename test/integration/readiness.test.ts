// /readyz reports each dependency that is down with 503, and the API keeps answering.
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { temporalClient } from '../../src/temporal.js';
import { createDb } from '../../src/db/knex.js';
import { freePort } from '../../src/dev/ports.js';
import '../support/context.js';

let app: FastifyInstance;
let connection: Connection;
const dbs: ReturnType<typeof createDb>[] = [];

beforeAll(async () => {
  const deadPort = await freePort();
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const db = createDb(`postgres://postgres:postgres@127.0.0.1:${deadPort}/app`);
  dbs.push(db);
  connection = Connection.lazy({ address: `127.0.0.1:${deadPort}` });
  app = await buildApp({ config, db, temporal: temporalClient(config, connection), logger: false });
});

afterAll(async () => {
  await app?.close();
  await connection?.close().catch(() => undefined);
  for (const db of dbs) await db.destroy();
});

it('answers 503 naming Postgres and Temporal when both are unreachable, and stays alive', async () => {
  const res = await app.inject({ method: 'GET', url: '/readyz' });
  expect(res.statusCode).toBe(503);
  const body = res.json();
  expect(body.status).toBe('unavailable');
  expect(body.checks.postgres.ok).toBe(false);
  expect(body.checks.temporal.ok).toBe(false);
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
});

it('answers requests that need the database with 503 and Retry-After while it is unreachable', async () => {
  const res = await app.inject({ method: 'GET', url: `/v1/locations/${crypto.randomUUID()}/slots` });
  expect(res.statusCode).toBe(503);
  expect(res.headers['retry-after']).toBe('1');
  expect(res.json()).toMatchObject({ error: 'temporarily_unavailable' });
});

it('names only the part that is down', async () => {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const db = createDb(inject('databaseUrl'));
  dbs.push(db);
  const partial = await buildApp({ config, db, temporal: temporalClient(config, connection), logger: false });
  const res = await partial.inject({ method: 'GET', url: '/readyz' });
  await partial.close();
  expect(res.statusCode).toBe(503);
  expect(res.json().checks).toMatchObject({ postgres: { ok: true }, temporal: { ok: false } });
});

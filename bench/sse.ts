// `npm run bench -- sse`: 1,000 concurrent live streams; latency from a committed event to its arrival at the clients, memory per stream, and a bare NOTIFY→LISTEN baseline.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Knex } from 'knex';
import pg from 'pg';
import { buildApp } from '../src/api/app.js';
import { hashToken, newToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { temporalClient } from '../src/temporal.js';
import { createDb } from '../src/db/knex.js';
import { migrateLatest } from '../src/db/migrate.js';
import { freePort } from '../src/dev/ports.js';
import { startEmbeddedPostgres } from '../src/dev/processes.js';
import { appendEvent } from '../src/db/repositories/events.js';
import { streams } from '../src/events/log.js';
import { percentile, pool, round } from './support/stack.js';
import { numberFlag } from './support/args.js';

interface Options {
  streams: number;
  /** Events broadcast to every stream of one location. */
  broadcastEvents: number;
  /** Events per second to the one location every stream follows (each goes to every stream). */
  broadcastRate: number;
  /** Events per second across the order streams. */
  rate: number;
  /** Transactions appending at once in the one-stream-per-order scenario (so ids commit out of order, as in production). */
  writers: number;
}

function parse(args: string[]): Options {
  const value = (name: string, fallback: number) => numberFlag(args, name, fallback);
  return {
    streams: value('streams', 1_000),
    broadcastEvents: value('events', 50),
    broadcastRate: value('broadcast-rate', 20),
    rate: value('rate', 200),
    writers: value('writers', 8),
  };
}

/**
 * Wall-clock milliseconds with sub-millisecond precision, comparable across processes on this machine.
 * Latencies run from the moment the writer sends COMMIT (the change's last step) to the client reading the event.
 */
const now = () => performance.timeOrigin + performance.now();

// ---- the client process: many SSE connections, each recording when every event id arrives ----------------

interface ClientCommand {
  open?: { urls: string[]; headers: Record<string, string>[] };
  report?: true;
  closeAll?: true;
}

/** Streams connecting at the same moment: each open is a request, and a crowd's arrive spread out. */
const OPENING_AT_ONCE = 200;

function runClients(): void {
  const arrivals = new Map<number, number[]>();
  let requests: http.ClientRequest[] = [];
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  process.on('message', (command: ClientCommand) => {
    if (command.open) {
      const { urls, headers } = command.open;
      let opened = 0;
      let failed = 0;
      let next = 0;
      const started = now();
      const settle = (ok: boolean) => {
        if (ok) opened += 1;
        else failed += 1;
        if (opened + failed === urls.length) process.send!({ opened, failed, ms: Math.round(now() - started) });
        else if (next < urls.length) openOne(next++);
      };
      // Clients arrive as a crowd does, a bounded number connecting at any moment, not all in the same instant.
      const openOne = (i: number) => {
        const url = urls[i]!;
        let settled = false;
        const request = http.get(url, { agent, headers: { accept: 'text/event-stream', ...headers[i] } }, (res) => {
          settled = true;
          settle(res.statusCode === 200);
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            const at = now();
            buffer += chunk;
            let boundary: number;
            while ((boundary = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, boundary);
              buffer = buffer.slice(boundary + 2);
              const idLine = block.split('\n').find((line) => line.startsWith('id: '));
              if (!idLine || block.includes('event: snapshot')) continue;
              const id = Number(idLine.slice(4));
              let list = arrivals.get(id);
              if (!list) arrivals.set(id, (list = []));
              list.push(at);
            }
          });
        });
        request.on('error', () => {
          if (!settled) {
            settled = true;
            settle(false);
          }
        });
        requests.push(request);
      };
      while (next < Math.min(OPENING_AT_ONCE, urls.length)) openOne(next++);
    }
    if (command.report) {
      process.send!({ arrivals: [...arrivals] });
      arrivals.clear();
    }
    if (command.closeAll) {
      for (const request of requests) request.destroy();
      requests = [];
      process.send!({ closed: true });
    }
  });
  process.send!({ ready: true });
}

function ask<T>(child: ChildProcess, command: ClientCommand | null, key: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: Record<string, unknown>) => {
      if (!(key in message)) return;
      child.off('message', listener);
      resolve(message as T);
    };
    child.on('message', listener);
    if (command) child.send(command);
  });
}

// ---- the benchmark ----------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function latencies(commitAt: Map<number, number>, arrivals: [number, number[]][], expectedPerEvent: number) {
  const samples: number[] = [];
  for (const [id, times] of arrivals) {
    const committed = commitAt.get(id);
    if (committed === undefined) continue;
    for (const at of times) samples.push(at - committed);
  }
  samples.sort((a, b) => a - b);
  const expected = commitAt.size * expectedPerEvent;
  return {
    events: commitAt.size,
    deliveries: samples.length,
    lost: expected - samples.length,
    p50Ms: round(percentile(samples, 50), 2),
    p99Ms: round(percentile(samples, 99), 2),
    maxMs: round(samples[samples.length - 1] ?? NaN, 2),
  };
}

/** A bare NOTIFY from one connection to a LISTEN on another: the floor under every stream's latency. */
async function notifyBaseline(databaseUrl: string, db: Knex, samples: number) {
  const listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  await listener.query('LISTEN bench_baseline');
  const arrived = new Map<number, number>();
  listener.on('notification', (message) => arrived.set(Number(message.payload), now()));
  const committed = new Map<number, number>();
  for (let i = 0; i < samples; i++) {
    // Autocommit: the statement is its own transaction, so this is the moment the commit is asked for.
    committed.set(i, now());
    await db.raw('SELECT pg_notify(?, ?)', ['bench_baseline', String(i)]);
    await sleep(5);
  }
  await sleep(200);
  await listener.end();
  const times = [...committed]
    .filter(([i]) => arrived.has(i))
    .map(([i, at]) => arrived.get(i)! - at)
    .sort((a, b) => a - b);
  return { samples: times.length, p50Ms: round(percentile(times, 50), 2), p99Ms: round(percentile(times, 99), 2) };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = parse(args);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'error' });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'food-bench-sse-'));
  fs.chmodSync(dir, 0o755);
  let postgres: { stop(): Promise<unknown> } | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const started = await startEmbeddedPostgres({
      dataDir: path.join(dir, 'pg'),
      port: await freePort(),
      databases: ['app'],
      logFile: path.join(dir, 'postgres.log'),
    });
    postgres = started.child;
    databaseUrl = `${started.url}/app`;
  }
  const db = createDb(databaseUrl, { max: 20 });
  await migrateLatest(db);
  // The API needs a Temporal client to build; the streams never use it, so it never connects.
  const temporalConnection = Connection.lazy({ address: '127.0.0.1:1' });
  let app: FastifyInstance | undefined;
  const clients = fork(fileURLToPath(import.meta.url), ['--sse-clients'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await ask(clients, null, 'ready');
    app = await buildApp({
      config: { ...config, databaseUrl },
      db,
      temporal: temporalClient(config, temporalConnection),
      logger: false,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    const baseline = await notifyBaseline(databaseUrl, db, 200);

    // Scenario 1: every stream follows the same location's slots; each event goes to all of them.
    const [location] = await db('locations')
      .insert({ name: 'Bench bakery', kind: 'bakery', lat: 51.5, lng: -0.1, delivery_radius_m: 8000 })
      .returning<{ id: string }[]>('id');
    const locationId = location!.id;
    gc();
    const before = process.memoryUsage();
    const broadcastOpen = await ask<{ opened: number; failed: number; ms: number }>(
      clients,
      {
        open: {
          urls: Array.from({ length: opts.streams }, () => `${base}/v1/locations/${locationId}/slots/events`),
          headers: Array.from({ length: opts.streams }, () => ({})),
        },
      },
      'opened',
    );
    await sleep(500);
    gc();
    const after = process.memoryUsage();
    const openStreams = app.liveStreams.stats().open;

    const broadcastCommits = new Map<number, number>();
    for (let i = 0; i < opts.broadcastEvents; i++) {
      await db.transaction(async (trx) => {
        const id = await appendEvent(trx, streams.location(locationId), 'slot.capacity', {
          slotId: locationId,
          capacity: 100,
          reserved: i,
          remaining: 100 - i,
          status: 'open',
        });
        broadcastCommits.set(id, now());
      });
      await sleep(1_000 / opts.broadcastRate);
    }
    await sleep(1_000);
    const broadcast = latencies(
      broadcastCommits,
      (await ask<{ arrivals: [number, number[]][] }>(clients, { report: true }, 'arrivals')).arrivals,
      opts.streams,
    );
    await ask(clients, { closeAll: true }, 'closed');
    await sleep(500);

    // Scenario 2: one stream per order, authenticated; events from several writers at once.
    const tokens = Array.from({ length: opts.streams }, () => newToken('bench_customer'));
    const users = await db('users')
      .insert(tokens.map((_, i) => ({ name: `Bench customer ${i}`, role: 'customer' })))
      .returning<{ id: string }[]>('id');
    await db.batchInsert(
      'credentials',
      users.map((u, i) => ({ user_id: u.id, kind: 'api', name: 'bench', token_hash: hashToken(tokens[i]!) })),
      1000,
    );
    const orderIds = users.map(() => crypto.randomUUID());
    await db.batchInsert(
      'orders',
      users.map((u, i) => ({
        id: orderIds[i],
        customer_id: u.id,
        location_id: locationId,
        status: 'confirmed',
        total_cents: 500,
        address: { lat: 51.5, lng: -0.1, line1: 'x' },
      })),
      500,
    );
    const ordersOpen = await ask<{ opened: number; failed: number; ms: number }>(
      clients,
      {
        open: {
          urls: orderIds.map((id) => `${base}/v1/orders/${id}/events`),
          headers: tokens.map((token) => ({ authorization: `Bearer ${token}` })),
        },
      },
      'opened',
    );
    await sleep(500);
    const orderCommits = new Map<number, number>();
    const interval = (1_000 / opts.rate) * opts.writers;
    await pool(orderIds.length, opts.writers, async (i) => {
      await db.transaction(async (trx) => {
        const id = await appendEvent(trx, streams.order(orderIds[i]!), 'order.status', {
          orderId: orderIds[i],
          status: 'prepping',
        });
        orderCommits.set(id, now());
      });
      await sleep(interval);
    });
    await sleep(1_000);
    const perOrder = latencies(
      orderCommits,
      (await ask<{ arrivals: [number, number[]][] }>(clients, { report: true }, 'arrivals')).arrivals,
      1,
    );
    await ask(clients, { closeAll: true }, 'closed');
    const fanout = app.liveStreams.stats();

    const p99 = Math.max(broadcast.p99Ms, perOrder.p99Ms);
    return {
      bench: 'sse',
      streams: opts.streams,
      broadcast: { ...broadcast, ratePerSecond: opts.broadcastRate, open: broadcastOpen },
      perOrder: { ...perOrder, ratePerSecond: opts.rate, writers: opts.writers, open: ordersOpen },
      baselineNotifyListen: baseline,
      memoryPerStream: {
        rssKiB: round((after.rss - before.rss) / openStreams / 1024, 1),
        heapKiB: round((after.heapUsed - before.heapUsed) / openStreams / 1024, 1),
        openStreams,
      },
      droppedSlowClients: fanout.droppedSlowClients,
      targetP99Ms: 250,
      p99Ms: p99,
      pass: p99 <= 250 && broadcast.lost === 0 && perOrder.lost === 0,
    };
  } finally {
    clients.kill();
    await app?.close();
    await temporalConnection.close().catch(() => undefined);
    await db.destroy();
    await postgres?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--sse-clients')) runClients();

// Prometheus metrics of the API process at GET /metrics: HTTP latency by route, live streams, orders by status, placement refusals and the read replica's lag.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Type } from 'typebox';
import { bearerToken, sameToken } from '../../auth/tokens.js';
import { ORDER_STATUSES } from '../../domain/vocabulary.js';
import type { EventFanout } from '../../events/fanout.js';
import { unauthorized } from '../errors.js';
import { ErrorBody } from '../schemas.js';
import type { AdmissionStats } from '../admission.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route checks its own Authorization header; the user-token check skips it. */
    ownAuth?: boolean;
  }
  interface FastifyInstance {
    metrics: {
      /** This app's own registry: several apps in one process (tests, benchmarks) never share or clash. */
      registry: Registry;
      /** Counts a placement the workflow refused (out_of_stock, slot_full, slot_closed). */
      orderRefused(reason: string): void;
      /** Counts a placement admission control refused as overloaded (503). */
      orderShed(): void;
    };
  }
}

export interface MetricsOptions {
  /** The process's LISTEN fan-out, whose health is worth a gauge. */
  fanout?: EventFanout;
  /** How long one count of orders by status serves scrapes before Postgres is asked again. */
  ordersByStatusCacheMs?: number;
  /** The bearer token a scrape must present; unset, /metrics is open. */
  token?: string;
}

const REFUSAL_REASONS = ['out_of_stock', 'slot_full', 'slot_closed'];

/** Bounds the scrape's query, so a slow database delays a scrape, never piles scrapes up. */
const COUNT_TIMEOUT_MS = 2_000;

export default fp(
  async (app: FastifyInstance, opts: MetricsOptions) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const cacheMs = opts.ordersByStatusCacheMs ?? 10_000;

    const httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status code (live streams excluded: they last as long as the client stays)',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });

    new Gauge({
      name: 'sse_open_streams',
      help: 'Server-Sent Event streams this process holds open',
      registers: [registry],
      collect() {
        this.set(app.hasDecorator('liveStreams') ? app.liveStreams.stats().open : 0);
      },
    });
    const droppedClients = new Counter({
      name: 'sse_dropped_slow_clients_total',
      help: 'Live streams ended because their client did not read fast enough',
      registers: [registry],
      collect() {
        if (!app.hasDecorator('liveStreams')) return;
        // The plugin keeps the running total; the counter mirrors it.
        droppedClients.reset();
        droppedClients.inc(app.liveStreams.stats().droppedSlowClients);
      },
    });

    if (opts.fanout) {
      const fanout = opts.fanout;
      new Gauge({
        name: 'events_fanout_connected',
        help: '1 while the LISTEN connection that feeds live streams is up (it opens with the first stream)',
        registers: [registry],
        collect() {
          this.set(fanout.stats().connected ? 1 : 0);
        },
      });
      const skippedIds = new Counter({
        name: 'events_fanout_skipped_ids_total',
        help: 'Gaps in the event id sequence the fan-out gave up waiting for (rollbacks, or transactions slower than the grace)',
        registers: [registry],
        collect() {
          skippedIds.reset();
          skippedIds.inc(fanout.stats().skippedIds);
        },
      });
    }

    // Only with a read replica configured: without one every read is on the primary and there is nothing to watch.
    if (app.readPool.state().configured) {
      const pool = app.readPool;
      new Gauge({
        name: 'replica_lag_seconds',
        help: 'How far the read replica is behind the primary, by the heartbeat the API stamps on the primary every second (NaN while it does not answer)',
        registers: [registry],
        collect() {
          this.set(pool.state().lagSeconds ?? Number.NaN);
        },
      });
      new Gauge({
        name: 'replica_reads_on_primary',
        help: '1 while reads meant for the replica go to the primary: it lags past DATABASE_READ_MAX_LAG_MS or does not answer',
        registers: [registry],
        collect() {
          this.set(pool.state().onReplica ? 0 : 1);
        },
      });
      const fallbacks = new Counter({
        name: 'replica_read_fallbacks_total',
        help: 'Reads the replica failed that the primary answered instead',
        registers: [registry],
        collect() {
          fallbacks.reset();
          fallbacks.inc(pool.state().fallbacks);
        },
      });
    }

    const refusals = new Counter({
      name: 'order_refusals_total',
      help: 'Orders refused at placement (POST /v1/orders answered 409), by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    // Zero series from the start, so rate() and alerts see a refusal reason the first time it happens.
    for (const reason of REFUSAL_REASONS) refusals.inc({ reason }, 0);
    const shed = new Counter({
      name: 'order_admission_refusals_total',
      help: 'Order placements refused as overloaded (POST /v1/orders answered 503 with Retry-After) by admission control',
      registers: [registry],
    });
    const admission = (pick: (stats: AdmissionStats) => number) =>
      function (this: Gauge) {
        if (app.admission) this.set(pick(app.admission.stats()));
      };
    new Gauge({
      name: 'order_admission_limit',
      help: 'Placements admission control lets run at once in this process (it adapts to placement latency)',
      registers: [registry],
      collect: admission((s) => s.limit),
    });
    new Gauge({
      name: 'order_admission_in_flight',
      help: 'Placements running in this process',
      registers: [registry],
      collect: admission((s) => s.inFlight),
    });
    new Gauge({
      name: 'order_admission_queued',
      help: 'Placements waiting for a place in this process',
      registers: [registry],
      collect: admission((s) => s.queued),
    });

    let counted: { at: number; counts: Map<string, number> } | undefined;
    let counting: Promise<Map<string, number>> | undefined;
    async function countOrdersByStatus(): Promise<Map<string, number>> {
      return app.repos.orders.countByStatus(COUNT_TIMEOUT_MS);
    }
    new Gauge({
      name: 'orders_by_status',
      help: 'Orders in the read model by status, counted in Postgres at most every few seconds (every API replica reports the same numbers: aggregate with max)',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        if (!counted || Date.now() - counted.at > cacheMs) {
          // Concurrent scrapes share one query.
          counting ??= countOrdersByStatus().finally(() => (counting = undefined));
          try {
            counted = { at: Date.now(), counts: await counting };
          } catch (err) {
            // The last good counts stay; the next scrape tries again.
            app.log.warn({ err }, 'could not count orders by status for /metrics');
          }
        }
        for (const status of new Set([...ORDER_STATUSES, ...(counted?.counts.keys() ?? [])])) {
          this.set({ status }, counted?.counts.get(status) ?? 0);
        }
      },
    });

    app.decorate('metrics', {
      registry,
      orderRefused(reason: string) {
        refusals.inc({ reason });
      },
      orderShed() {
        shed.inc();
      },
    });

    app.addHook('onResponse', async (request, reply) => {
      // An event stream's duration is how long its client stayed; refusals of streams (4xx, 503) still count.
      const produces = (request.routeOptions.schema as { produces?: readonly string[] } | undefined)?.produces;
      if (reply.statusCode === 200 && produces?.includes('text/event-stream')) return;
      // The route pattern, never the raw URL: ids in paths would make a series per order.
      const route = request.routeOptions.url ?? 'unmatched';
      httpDuration.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });

    const token = opts.token;
    app.get(
      '/metrics',
      {
        // A scrape every few seconds per replica would otherwise be most of the log.
        logLevel: 'warn',
        config: { ownAuth: true },
        onRequest: async (request) => {
          const presented = bearerToken(request.headers.authorization);
          if (token !== undefined && !(presented !== undefined && sameToken(presented, token)))
            throw unauthorized('Scraping /metrics needs the metrics bearer token');
        },
        schema: {
          tags: ['ops'],
          summary:
            'Prometheus metrics of this API process; with METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`',
          produces: ['text/plain'],
          response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }), 401: ErrorBody },
        },
      },
      async (_request, reply) => {
        const body = await registry.metrics();
        return reply.type(registry.contentType).send(body);
      },
    );
  },
  { name: 'metrics', dependencies: ['repositories'] },
);

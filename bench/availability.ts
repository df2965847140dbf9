// `npm run bench -- availability [--scale 1] [--duration 30] [--concurrency 4] [--sweep 1,2] [--reservations-per-s 50] [--search-share 0.2] [--filter-share 0.3]`:
// loads a synthetic country (10,000 locations, 100,000 products, 5,000,000 stock lots at scale 1), then measures
// GET /v1/availability from random customer points over HTTP while orders reserve stock in the background, and
// /healthz on the same server under the same load as the baseline. A share of the requests filter by category, tags or
// price or sort by price or distance; the report gives their p99 beside the others'. The sweep first measures lower concurrencies
// (10 s each), so the report shows how latency grows with load, not only the figure at the headline concurrency.
// `--replica` runs on the Postgres of `npm run cluster` instead (Debian's server and a streaming replica of it) and
// measures the same requests served from the replica (DATABASE_READ_URL) against the primary, in alternating rounds.
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { checkInventoryInvariants } from '../src/db/invariants.js';
import { PRODUCT_TAGS } from '../src/domain/vocabulary.js';
import { runHttpLoad, type HttpLoadResult } from './support/http-load.js';
import { startLightStack, type LightStack } from './support/light-stack.js';
import { progressBar } from './support/progress.js';
import { startReplicaStack, type ReplicaStack } from './support/replica-stack.js';
import { startReservationLoad } from './support/reservation-load.js';
import { percentile, round } from './support/stack.js';

interface Options {
  scale: number;
  durationS: number;
  warmupS: number;
  concurrency: number;
  /** Lower concurrencies measured first, for the latency-against-load curve. */
  sweep: number[];
  reservationsPerS: number;
  searchShare: number;
  filterShare: number;
  /** Availability from a streaming replica against the primary (no sweep unless asked). */
  replica: boolean;
}

function parse(args: string[]): Options {
  const { values } = parseArgs({
    args,
    strict: false,
    options: {
      scale: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      sweep: { type: 'string' },
      'reservations-per-s': { type: 'string' },
      'search-share': { type: 'string' },
      'filter-share': { type: 'string' },
      replica: { type: 'boolean' },
    },
  });
  const number = (name: string, fallback: number, ok: (n: number) => boolean) => {
    const raw = values[name];
    const value = typeof raw === 'string' ? Number(raw) : fallback;
    if (!Number.isFinite(value) || !ok(value)) throw new Error(`--${name} ${String(raw)} is out of range`);
    return value;
  };
  return {
    scale: number('scale', 1, (n) => n > 0 && n <= 4),
    durationS: number('duration', 30, (n) => n > 0),
    warmupS: number('warmup', 5, (n) => n >= 0),
    concurrency: number('concurrency', 4, (n) => Number.isInteger(n) && n > 0),
    sweep: sweepList(values.sweep ?? (values.replica ? 'none' : undefined)),
    reservationsPerS: number('reservations-per-s', 50, (n) => n > 0),
    searchShare: number('search-share', 0.2, (n) => n >= 0 && n <= 1),
    filterShare: number('filter-share', 0.3, (n) => n >= 0 && n <= 1),
    replica: values.replica === true,
  };
}

/** `--sweep 1,2` (the default), or `--sweep none`. */
function sweepList(raw: unknown): number[] {
  if (raw === 'none') return [];
  const list = (typeof raw === 'string' ? raw : '1,2').split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`--sweep ${String(raw)} must list positive whole concurrencies, or be none`);
  return list;
}

// The synthetic country: locations spread evenly over a box whose area grows with the scale, so the number of
// locations reaching a customer (about a dozen) is the same at every scale. At scale 1 the box is roughly Great Britain.
const CENTRE = { lat: 52.5, lng: -1.75 };
const SPAN = { lat: 5, lng: 6.5 };
const FLAVOURS = [
  'Butter',
  'Almond',
  'Seeded',
  'Rye',
  'Spelt',
  'Honey',
  'Lemon',
  'Cherry',
  'Walnut',
  'Cinnamon',
  'Cardamom',
  'Sesame',
  'Poppy',
  'Olive',
  'Garlic',
  'Cheese',
  'Chocolate',
  'Vanilla',
  'Maple',
  'Pecan',
];
const BAKES = [
  'croissant',
  'loaf',
  'bun',
  'tart',
  'bagel',
  'roll',
  'scone',
  'muffin',
  'brioche',
  'focaccia',
  'pretzel',
  'danish',
  'baguette',
  'cake',
  'cookie',
  'pie',
  'twist',
  'bar',
  'slice',
  'wrap',
];

/** Categories of the synthetic catalogue; one product in CATEGORIES + 1 has none. */
const CATEGORIES = 12;
const TAGS = PRODUCT_TAGS as readonly string[];

const sqlArray = (words: readonly string[]) => `(ARRAY[${words.map((w) => `'${w}'`).join(',')}])`;
// Product n's name, computable from n alone so lots can carry it without a join (its other properties below too).
const productName = (n: string) =>
  `${sqlArray(FLAVOURS)}[1 + ${n} % ${FLAVOURS.length}] || ' ' || ${sqlArray(BAKES)}[1 + (${n} / ${FLAVOURS.length}) % ${BAKES.length}] || ' ' || ${n}`;
// A uniform pseudo-random integer in [0, 2^31) from n and a salt.
const hash = (n: string, salt: number) => `(hashint8(${n} + ${salt})::bigint & 2147483647)`;

// Product n's list price, category (none for one in CATEGORIES + 1) and tags (each with a chance of one in four).
const productPrice = (n: string) => `100 + ${hash(n, 1)} % 1900`;
const productCategory = (n: string) =>
  `CASE WHEN ${n} % ${CATEGORIES + 1} < ${CATEGORIES} THEN md5('category:' || (${n} % ${CATEGORIES + 1}))::uuid END`;
const productTags = (n: string) =>
  `ARRAY(SELECT t FROM unnest(${sqlArray(TAGS)}) WITH ORDINALITY AS u(t, k) WHERE ${hash(n, 10)} >> k::int & 3 = 0)`;

interface Sizes {
  locations: number;
  products: number;
  lots: number;
}

/** Drops the lot table's secondary indexes for the bulk load and returns the statements that rebuild them. */
async function dropStockIndexes(db: Knex): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { indexname: string; indexdef: string }[] }>(
    `SELECT indexname, indexdef FROM pg_indexes
     WHERE tablename = 'stock_lots' AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'stock_lots'::regclass)`,
  );
  for (const row of rows) await db.raw(`DROP INDEX ${row.indexname}`);
  return rows.map((r) => r.indexdef);
}

export async function loadDataset(db: Knex, sizes: Sizes, scale: number): Promise<number> {
  const started = Date.now();
  const span = { lat: SPAN.lat * Math.sqrt(scale), lng: SPAN.lng * Math.sqrt(scale) };
  // Bulk rows come straight from generate_series; triggers and foreign-key checks are skipped for them
  // (session_replication_role), so the loader supplies the sort key the trigger would have copied.
  const bulk = (sql: string) =>
    db.transaction(async (trx) => {
      await trx.raw('SET LOCAL session_replication_role = replica');
      await trx.raw(sql);
    });

  const catalog = progressBar('catalog   ', sizes.products + sizes.locations);
  await bulk(`
    INSERT INTO categories (id, name)
    SELECT md5('category:' || c)::uuid, 'Category ' || c FROM generate_series(0, ${CATEGORIES - 1}) c`);
  await bulk(`
    INSERT INTO products (id, name, description, price_cents, shelf_life_minutes, eod_discount_percent, category_id, tags)
    SELECT md5('product:' || n)::uuid, ${productName('n')}, 'Baked for the benchmark', ${productPrice('n')}, 120 + ${hash('n', 2)} % 2880, (n % 6) * 10,
           ${productCategory('n')}, ${productTags('n')}
    FROM generate_series(0, ${sizes.products - 1}) n`);
  catalog.update(sizes.products, 'products');
  await bulk(`
    INSERT INTO locations (id, name, kind, lat, lng, delivery_radius_m)
    SELECT md5('location:' || n)::uuid, 'Location ' || n, (ARRAY['bakery','kitchen','dc'])[1 + n % 3],
           ${CENTRE.lat - span.lat / 2} + ${span.lat} * (${hash('n', 3)} / 2147483648.0),
           ${CENTRE.lng - span.lng / 2} + ${span.lng} * (${hash('n', 4)} / 2147483648.0),
           5000 + ${hash('n', 5)} % 7000
    FROM generate_series(0, ${sizes.locations - 1}) n`);
  catalog.finish('products and locations');

  const indexes = await dropStockIndexes(db);
  const chunk = Math.max(1, Math.min(100_000, Math.ceil(sizes.lots / 20)));
  const chunks = Math.ceil(sizes.lots / chunk);
  const lots = progressBar('stock lots', sizes.lots);
  let loaded = 0;
  let nextChunk = 0;
  // Lot i: location i mod L (lots of one location are spread over the table, as if received over time), a random
  // product, 1-50 units, expiring between 100 minutes ago (not yet swept) and 31 hours from now; its end-of-day
  // discount opens 30 minutes before expiry.
  const loadChunk = async (c: number) => {
    const from = c * chunk;
    const to = Math.min(sizes.lots, from + chunk) - 1;
    await bulk(`
      INSERT INTO stock_lots (location_id, product_id, product_sort_key, product_category_id, product_tags, product_price_cents,
                              quantity, available, free_units, produced_at, expires_at, discount_from)
      SELECT md5('location:' || (i % ${sizes.locations}))::uuid, md5('product:' || p)::uuid, lower(${productName('p')}),
             ${productCategory('p')}, ${productTags('p')}, ${productPrice('p')},
             q, q, int4multirange(int4range(0, q)), least(now(), e - (120 + h % 2400) * interval '1 minute'), e, e - interval '30 minutes'
      FROM (
        SELECT i, ${hash('i', 6)} % ${sizes.products} AS p, (1 + ${hash('i', 7)} % 50)::int AS q,
               now() + ((${hash('i', 8)} % 2000) - 100) * interval '1 minute' AS e, ${hash('i', 9)} AS h
        FROM generate_series(${from}, ${to}) i
      ) g`);
    loaded += to - from + 1;
    lots.update(loaded);
  };
  // Two loaders, one per core.
  await Promise.all(
    [0, 1].map(async () => {
      while (nextChunk < chunks) await loadChunk(nextChunk++);
    }),
  );
  lots.finish();

  const rebuild = progressBar('indexes   ', indexes.length + 1);
  await db.transaction(async (trx) => {
    await trx.raw("SET LOCAL maintenance_work_mem = '1GB'");
    await trx.raw('SET LOCAL max_parallel_maintenance_workers = 2');
    for (const [i, definition] of indexes.entries()) {
      await trx.raw(definition);
      rebuild.update(i + 1, definition.match(/INDEX (\S+)/)?.[1]);
    }
  });
  // VACUUM marks pages all-visible, so the availability query answers from the index alone.
  for (const table of ['stock_lots', 'products', 'locations']) await db.raw(`VACUUM (ANALYZE) ${table}`);
  rebuild.finish('vacuumed and analysed');
  return (Date.now() - started) / 1000;
}

function randomPoint(scale: number): { lat: number; lng: number } {
  const span = { lat: SPAN.lat * Math.sqrt(scale), lng: SPAN.lng * Math.sqrt(scale) };
  return {
    lat: round(CENTRE.lat - span.lat / 2 + Math.random() * span.lat, 5),
    lng: round(CENTRE.lng - span.lng / 2 + Math.random() * span.lng, 5),
  };
}

/** Some of category, tags, a price ceiling and a sort other than by name; at least one of them. */
function randomFilter(): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)]!;
  for (;;) {
    let query = '';
    if (Math.random() < 0.4) query += `&category=${categoryId(Math.floor(Math.random() * CATEGORIES))}`;
    if (Math.random() < 0.4)
      query += `&tags=${[...new Set([pick(TAGS), ...(Math.random() < 0.3 ? [pick(TAGS)] : [])])]}`;
    if (Math.random() < 0.3) query += `&maxPriceCents=${300 + Math.floor(Math.random() * 1200)}`;
    if (Math.random() < 0.4) query += `&sort=${pick(['price', 'distance'])}`;
    if (query !== '') return query;
  }
}

/** The id the loader gives category c: the uuid spelling of md5('category:c'). */
function categoryId(c: number): string {
  const hex = createHash('md5').update(`category:${c}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The embedded stack of every other bench, or the primary and replica of `--replica`. */
type BenchStack = LightStack | (ReplicaStack & { baseUrl?: string });

/** One result of several measured windows, as if one window as long as all of them. */
function mergeLoads(loads: HttpLoadResult[]): HttpLoadResult {
  const statuses: Record<string, number> = {};
  for (const load of loads)
    for (const [status, n] of Object.entries(load.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  return {
    latencies: loads.flatMap((l) => l.latencies),
    pathIndexes: loads.flatMap((l) => l.pathIndexes),
    seconds: loads.reduce((sum, l) => sum + l.seconds, 0),
    statuses,
    errors: loads.reduce((sum, l) => sum + l.errors, 0),
  };
}

function summarise(load: HttpLoadResult) {
  const sorted = [...load.latencies].sort((a, b) => a - b);
  const of = (keep: (pathIndex: number) => boolean) =>
    load.latencies.filter((_, k) => keep(load.pathIndexes[k]!)).sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50), 2),
    p99: round(percentile(sorted, 99), 2),
    max: round(sorted.at(-1) ?? NaN, 2),
    rps: round(load.latencies.length / load.seconds),
    requests: load.latencies.length,
    /** p99 of the requests whose path passes `keep`. */
    p99Of: (keep: (pathIndex: number) => boolean) => round(percentile(of(keep), 99), 2),
    non200:
      Object.entries(load.statuses)
        .filter(([status]) => status !== '200')
        .reduce((sum, [, n]) => sum + n, 0) + load.errors,
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opts = parse(args);
  const sizes: Sizes = {
    locations: Math.round(10_000 * opts.scale),
    products: Math.round(100_000 * opts.scale),
    lots: Math.round(5_000_000 * opts.scale),
  };
  console.error(
    `availability: ${sizes.locations.toLocaleString('en-US')} locations, ${sizes.products.toLocaleString('en-US')} products, ${sizes.lots.toLocaleString('en-US')} stock lots; starting Postgres and Temporal…`,
  );
  const log = (message: string) => console.error(message);
  const stack: BenchStack = opts.replica
    ? await startReplicaStack({ log, poolMax: 10 })
    : await startLightStack({ api: true, poolMax: 10 });
  try {
    const loadSeconds = await loadDataset(stack.db, sizes, opts.scale);
    console.error(`loaded in ${round(loadSeconds)} s`);
    let replicaBaseUrl: string | undefined;
    if ('startReplica' in stack) {
      const started = Date.now();
      const readUrl = await stack.startReplica();
      console.error(`the streaming replica caught up in ${round((Date.now() - started) / 1000)} s`);
      const apis = await stack.startApis(readUrl);
      stack.baseUrl = apis.primaryUrl;
      replicaBaseUrl = apis.replicaUrl;
    }

    // Customers at random points; a share of them search for a kind of bake, a share filter or sort.
    const paths = Array.from({ length: 20_000 }, () => {
      const point = randomPoint(opts.scale);
      const search = Math.random() < opts.searchShare ? `&q=${BAKES[Math.floor(Math.random() * BAKES.length)]}` : '';
      return `/v1/availability?lat=${point.lat}&lng=${point.lng}${search}${Math.random() < opts.filterShare ? randomFilter() : ''}`;
    });
    const sample = await Promise.all(
      paths
        .slice(0, 200)
        .map(
          async (path) =>
            (await fetch(`${stack.baseUrl}${path}`)).json() as Promise<{ items: { locations: unknown[] }[] }>,
        ),
    );
    const nearby = paths.slice(0, 200).map((path) => new URL(path, stack.baseUrl!).searchParams);
    const nearbyCounts = await Promise.all(
      nearby.map(
        async (q) =>
          (
            (await (await fetch(`${stack.baseUrl}/v1/locations?lat=${q.get('lat')}&lng=${q.get('lng')}`)).json()) as {
              items: unknown[];
            }
          ).items.length,
      ),
    );

    const { rows: candidates } = await stack.db.raw<{ rows: { locationId: string; productId: string }[] }>(
      `SELECT location_id AS "locationId", product_id AS "productId" FROM stock_lots TABLESAMPLE SYSTEM (1)
       WHERE available > 0 AND expires_at > now() + interval '2 hours' LIMIT 5000`,
    );
    const background = startReservationLoad({
      databaseUrl: stack.databaseUrl,
      candidates,
      perSecond: opts.reservationsPerS,
    });
    const searches = new Set(paths.flatMap((path, k) => (path.includes('&q=') ? [k] : [])));
    const filtered = new Set(
      paths.flatMap((path, k) => (/&(category|tags|maxPriceCents|sort)=/.test(path) ? [k] : [])),
    );
    // Each filter and sort on its own (a request may be in several), and word searches with a filter or sort.
    const KINDS: Record<string, RegExp> = {
      category: /&category=/,
      tags: /&tags=/,
      max_price: /&maxPriceCents=/,
      sort_price: /&sort=price/,
      sort_distance: /&sort=distance/,
      words_and_filter: /&q=.*&(category|tags|maxPriceCents|sort)=/,
    };
    const kindOf = Object.fromEntries(
      Object.entries(KINDS).map(([kind, pattern]) => [
        kind,
        new Set(paths.flatMap((path, k) => (pattern.test(path) ? [k] : []))),
      ]),
    );
    if (opts.sweep.length > 0)
      console.error(
        `sweeping concurrency ${opts.sweep.join(', ')} first (10 s each), ${opts.reservationsPerS} reservations/s in the background…`,
      );
    const sweep = [];
    for (const concurrency of opts.sweep) {
      const point = summarise(
        await runHttpLoad({
          baseUrl: stack.baseUrl!,
          paths,
          concurrency,
          warmupMs: 2_000,
          durationMs: Math.min(10, opts.durationS) * 1000,
        }),
      );
      sweep.push({
        concurrency,
        p50_ms: point.p50,
        p99_ms: point.p99,
        rps: point.rps,
        browse_p99_ms: point.p99Of((k) => !searches.has(k)),
        search_p99_ms: point.p99Of((k) => searches.has(k)),
        filtered_p99_ms: point.p99Of((k) => filtered.has(k)),
        unfiltered_p99_ms: point.p99Of((k) => !filtered.has(k)),
      });
      console.error(`  at concurrency ${concurrency}: p50 ${point.p50} ms, p99 ${point.p99} ms, ${point.rps} req/s`);
    }
    console.error(
      `measuring GET /v1/availability for ${opts.durationS} s at concurrency ${opts.concurrency} (after ${opts.warmupS} s warm-up), ${opts.reservationsPerS} reservations/s in the background…`,
    );
    const measure = (baseUrl: string, durationS: number, warmupS: number) =>
      runHttpLoad({
        baseUrl,
        paths,
        concurrency: opts.concurrency,
        warmupMs: warmupS * 1000,
        durationMs: durationS * 1000,
      });
    let availability: ReturnType<typeof summarise>;
    let fromReplica: Record<string, unknown> | undefined;
    if (replicaBaseUrl && 'replicaTransactions' in stack) {
      // Primary and replica take turns, so drift on a shared machine falls on both alike.
      const rounds = 3;
      const segmentS = opts.durationS / rounds;
      const onPrimary: HttpLoadResult[] = [];
      const onReplica: HttpLoadResult[] = [];
      let replicaTransactions = 0;
      for (let round = 0; round < rounds; round++) {
        onPrimary.push(await measure(stack.baseUrl!, segmentS, Math.min(2, opts.warmupS)));
        const before = await stack.replicaTransactions();
        onReplica.push(await measure(replicaBaseUrl, segmentS, Math.min(2, opts.warmupS)));
        replicaTransactions += (await stack.replicaTransactions()) - before;
      }
      availability = summarise(mergeLoads(onPrimary));
      const replica = summarise(mergeLoads(onReplica));
      fromReplica = {
        pg_version: stack.pgVersion,
        rounds,
        p50_ms: replica.p50,
        p99_ms: replica.p99,
        rps: replica.rps,
        filtered_p99_ms: replica.p99Of((k) => filtered.has(k)),
        unfiltered_p99_ms: replica.p99Of((k) => !filtered.has(k)),
        non_200: replica.non200,
        primary_p50_ms: availability.p50,
        primary_p99_ms: availability.p99,
        primary_rps: availability.rps,
        p99_ratio: round(replica.p99 / availability.p99, 3),
        rps_ratio: round(replica.rps / availability.rps, 3),
        // Read transactions the replica committed while its API was measured (the other API reads the primary).
        replica_transactions: replicaTransactions,
        replica_requests: replica.requests,
      };
      console.error(
        `from the replica: p50 ${replica.p50} ms, p99 ${replica.p99} ms, ${replica.rps} req/s; from the primary: p50 ${availability.p50} ms, p99 ${availability.p99} ms, ${availability.rps} req/s; ${replicaTransactions} transactions on the replica`,
      );
    } else {
      availability = summarise(await measure(stack.baseUrl!, opts.durationS, opts.warmupS));
    }
    console.error(`measuring the baseline GET /healthz the same way…`);
    const baseline = summarise(
      await runHttpLoad({
        baseUrl: stack.baseUrl!,
        paths: ['/healthz'],
        concurrency: opts.concurrency,
        warmupMs: Math.min(2, opts.warmupS) * 1000,
        durationMs: opts.durationS * 1000,
      }),
    );
    const reservations = await background.stop();

    const checkStarted = Date.now();
    const violations = await checkInventoryInvariants(stack.db);
    const checkSeconds = (Date.now() - checkStarted) / 1000;
    for (const violation of violations) console.error(`invariant violated: ${violation}`);

    const result = {
      // Its own file (results/availability-replica.json) on the replica's Postgres.
      bench: fromReplica ? 'availability-replica' : 'availability',
      p50_ms: availability.p50,
      p99_ms: availability.p99,
      max_ms: availability.max,
      rps: availability.rps,
      baseline_p50_ms: baseline.p50,
      baseline_p99_ms: baseline.p99,
      baseline_rps: baseline.rps,
      ratio: round(availability.rps / baseline.rps, 3),
      // The tail against the floor: what the same server takes to answer its cheapest route under the same load.
      p99_to_healthz_p99: round(availability.p99 / baseline.p99, 2),
      p99_to_healthz_target: 3,
      p99_to_healthz_met: availability.p99 <= 3 * baseline.p99,
      p99_target_ms: 20,
      p99_met: availability.p99 <= 20,
      locations: sizes.locations,
      products: sizes.products,
      stock_rows: sizes.lots,
      load_s: round(loadSeconds),
      concurrency: opts.concurrency,
      duration_s: opts.durationS,
      sweep,
      search_share: opts.searchShare,
      browse_p99_ms: availability.p99Of((k) => !searches.has(k)),
      search_p99_ms: availability.p99Of((k) => searches.has(k)),
      filter_share: opts.filterShare,
      filtered_p99_ms: availability.p99Of((k) => filtered.has(k)),
      unfiltered_p99_ms: availability.p99Of((k) => !filtered.has(k)),
      p99_ms_by_kind: Object.fromEntries(
        Object.entries(kindOf).map(([kind, set]) => [kind, availability.p99Of((k) => set.has(k))]),
      ),
      requests: availability.requests,
      non_200: availability.non200 + baseline.non200,
      avg_nearby_locations: round(nearbyCounts.reduce((a, b) => a + b, 0) / nearbyCounts.length, 1),
      avg_products_per_page: round(sample.reduce((a, b) => a + b.items.length, 0) / sample.length, 1),
      background_reservations_per_s: round(reservations.reserved / reservations.seconds, 1),
      background_out_of_stock: reservations.outOfStock,
      background_errors: reservations.errors,
      invariant_violations: violations.length,
      invariant_check_s: round(checkSeconds, 1),
      ...(fromReplica ? { replica: fromReplica } : {}),
    };
    console.log(
      `GET /v1/availability p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, ${result.rps} req/s; /healthz p50 ${result.baseline_p50_ms} ms, p99 ${result.baseline_p99_ms} ms, ${result.baseline_rps} req/s (throughput ratio ${result.ratio}, p99 ${result.p99_to_healthz_p99}× /healthz's); loaded ${result.stock_rows.toLocaleString('en-US')} lots in ${result.load_s} s; ${result.invariant_violations} invariant violations`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

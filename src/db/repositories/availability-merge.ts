// Pages of availability read as merges of the nearby locations' own ordered lot scans: in name or price order, where
// Postgres merges k index scans and stops once the page's products are complete; in distance order, the nearest
// location first and then all the others at once, each read in name order without the products a nearer one offers
// (a first page in one statement, the nearest location's products or else every location's stock ranked).
import type { Knex } from 'knex';
import { filterFor, type FilterShape } from './availability-statements.js';

/** The orders a merge of index scans reads in: each has a lot index per location (name, and list price). */
export type MergeOrder = 'name' | 'price';

const ORDER: Record<MergeOrder, { columns: string; after: string; lead: string }> = {
  name: {
    columns: 'product_sort_key, product_id',
    after: '(product_sort_key, product_id) > (:afterKey, :afterId::uuid)',
    lead: 'NULL::float8',
  },
  price: {
    columns: 'product_price_cents, product_sort_key, product_id',
    after: '(product_price_cents, product_sort_key, product_id) > (:afterPrice::int, :afterKey, :afterId::uuid)',
    lead: 'lots.product_price_cents::float8',
  },
};

const MATCHING = (lots: string) => `${lots}.available > 0 AND ${lots}.expires_at > :freshAt
        AND ${lots}.product_sort_key LIKE ALL (ARRAY(SELECT lower(w) FROM unnest(:patterns::text[]) AS w))`;

// One page of the union as a merge, for the k locations already known to deliver to the point: each location's fresh
// lots come out of its index in the page's order, Postgres merges the k ordered scans and stops as soon as the page's
// products are complete. A page so reads about one page of lots in all, and a search or a filter reads until it has
// found one page of matches, where the lateral query reads a page (or, sorting by price, every lot) at each location.
// (Every lot of a product carries the product's list price, so its lots sit together in price order too.)
//
// Given `nearbySql`, the statement finds the locations itself, in the same round trip: branch i reads the i-th nearest
// (none when fewer than k deliver there), and each row says how many do, so a caller knows whether k were enough.
export function mergedPageSql(k: number, shape: FilterShape, order: MergeOrder, nearbySql?: string): string {
  const { columns, after, lead } = ORDER[order];
  const location = (i: number) => (nearbySql ? `(SELECT ids[${i + 1}] FROM reach)` : `:loc${i}::uuid`);
  const branches = Array.from(
    { length: k },
    (_, i) => `(
      SELECT location_id, product_price_cents, product_sort_key, product_id, available, discount_from FROM stock_lots
      WHERE location_id = ${location(i)} AND ${MATCHING('stock_lots')}
        AND ${after}${filterFor('stock_lots', shape)}
      ORDER BY ${columns})`,
  ).join(' UNION ALL ');
  const page = `
  SELECT page.location_id, page.product_id, page.product_sort_key, page.rank, page.lead, page.available, page.discounted,
         p.name, p.description, p.price_cents, p.eod_discount_percent${nearbySql ? ', nearby.name AS location_name, nearby.distance_m' : ''}
  FROM (
    SELECT lots.location_id, lots.product_id, lots.product_sort_key, lots.rank::int AS rank, ${lead} AS lead,
           sum(lots.available)::int AS available,
           coalesce(sum(lots.available) FILTER (WHERE lots.discount_from <= :now), 0)::int AS discounted
    FROM (
      SELECT merged.*, dense_rank() OVER (ORDER BY ${columns}) AS rank
      FROM (${k === 1 ? branches : `${branches}\n      ORDER BY ${columns}`}) merged
    ) lots
    WHERE lots.rank <= :pageSize
    GROUP BY lots.location_id, lots.product_id, lots.product_sort_key, lots.rank, lots.product_price_cents
  ) page
  -- OFFSET 0 keeps this a lookup per row of the page, never a join over the whole catalogue.
  CROSS JOIN LATERAL (SELECT name, description, price_cents, eod_discount_percent FROM products WHERE id = page.product_id OFFSET 0) p${
    nearbySql ? '\n  JOIN nearby ON nearby.id = page.location_id' : ''
  }`;
  if (!nearbySql) return page;
  // Every row says how many locations deliver there; an empty page is one row without a product, so that a caller
  // knows an empty page from one that needed more locations than k.
  return `
  WITH nearby AS MATERIALIZED (${nearbySql}),
  reach AS MATERIALIZED (SELECT array_agg(id ORDER BY distance_m, id) AS ids, count(*)::int AS nearby_count FROM nearby)
  SELECT found.*, reach.nearby_count
  FROM reach LEFT JOIN (${page}
  ) found ON true
  ORDER BY found.rank, found.distance_m, found.location_id`;
}

// The first page in distance order in one round trip, finding the locations itself. Usually the nearest location's
// first products in name order fill it (nothing is nearer, so none is left out): then it is those, with their stock at
// every location delivering there. Otherwise (a search or a filter that few of its products pass, a second location
// exactly as near, or none at all) every nearby location's matching stock is read and ranked by the distance to each
// product's nearest stocking location. Only one of the two is run: each waits on a one-time condition. (row_number's
// run condition stops a scan at the page, as LIMIT would, while the plan stays one that a prepared statement keeps for
// every page size.)
export const distanceFirstPageSql = (shape: FilterShape, nearbySql: string) => `
  WITH nearby AS MATERIALIZED (${nearbySql}),
  reach AS MATERIALIZED (
    SELECT (array_agg(id ORDER BY distance_m, id))[1] AS nearest, count(*)::int AS nearby_count,
           (array_agg(distance_m ORDER BY distance_m, id))[1] AS lead,
           coalesce((array_agg(distance_m ORDER BY distance_m, id))[2] = (array_agg(distance_m ORDER BY distance_m, id))[1], false) AS tied
    FROM nearby
  ),
  firsts AS MATERIALIZED (
    SELECT product_id, product_sort_key FROM (
      SELECT s.product_id, s.product_sort_key, row_number() OVER (ORDER BY s.product_sort_key, s.product_id) AS n
      FROM stock_lots s
      WHERE s.location_id = (SELECT nearest FROM reach) AND ${MATCHING('s')}${filterFor('s', shape)}
      GROUP BY s.product_sort_key, s.product_id
    ) ranked
    WHERE n <= :pageSize
  ),
  nearest_fills AS MATERIALIZED (
    SELECT NOT reach.tied AND ((SELECT count(*) FROM firsts) >= :pageSize OR reach.nearby_count = 1) AS yes FROM reach
  ),
  nearest_page AS (
    SELECT s.location_id, s.product_id, s.product_sort_key, sum(s.available)::int AS available,
           coalesce(sum(s.available) FILTER (WHERE s.discount_from <= :now), 0)::int AS discounted,
           (SELECT lead FROM reach) AS lead
    FROM stock_lots s
    WHERE (SELECT yes FROM nearest_fills)
      AND s.location_id = ANY(ARRAY(SELECT id FROM nearby)) AND s.product_id = ANY(ARRAY(SELECT product_id FROM firsts))
      AND s.available > 0 AND s.expires_at > :freshAt
    GROUP BY s.location_id, s.product_id, s.product_sort_key
  ),
  stock AS MATERIALIZED (
    SELECT nearby.id AS location_id, nearby.distance_m, here.*
    FROM nearby CROSS JOIN LATERAL (
      SELECT s.product_id, s.product_sort_key, sum(s.available)::int AS available,
             coalesce(sum(s.available) FILTER (WHERE s.discount_from <= :now), 0)::int AS discounted
      FROM stock_lots s
      WHERE s.location_id = nearby.id AND ${MATCHING('s')}${filterFor('s', shape)}
      GROUP BY s.product_id, s.product_sort_key
    ) here
    WHERE NOT (SELECT yes FROM nearest_fills)
  ),
  ranked_page AS (
    SELECT product_id, lead FROM (
      SELECT product_id, min(distance_m) AS lead,
             row_number() OVER (ORDER BY min(distance_m), product_sort_key, product_id) AS n
      FROM stock
      GROUP BY product_id, product_sort_key
    ) ranked
    WHERE n <= :pageSize
  ),
  page AS (
    SELECT location_id, product_id, product_sort_key, available, discounted, lead FROM nearest_page
    UNION ALL
    SELECT stock.location_id, stock.product_id, stock.product_sort_key, stock.available, stock.discounted, ranked_page.lead
    FROM stock JOIN ranked_page ON ranked_page.product_id = stock.product_id
  )
  SELECT page.*, reach.nearby_count
  FROM reach LEFT JOIN (
    SELECT page.*, p.name, p.description, p.price_cents, p.eod_discount_percent, nearby.name AS location_name,
           nearby.distance_m
    FROM page JOIN nearby ON nearby.id = page.location_id
    CROSS JOIN LATERAL (SELECT name, description, price_cents, eod_discount_percent FROM products WHERE id = page.product_id OFFSET 0) p
  ) page ON true
  ORDER BY page.lead, page.product_sort_key, page.product_id, page.distance_m, page.location_id`;

// The next products of one group of equally near locations in name order, leaving out those a nearer location offers:
// their nearest stock is elsewhere, so they come earlier in distance order. One location reads its own index in order.
// (These stop at :need products by row_number's run condition rather than LIMIT :need, so that Postgres keeps one plan
// for every page size instead of planning each execution.)
const groupProductsSql = (single: boolean, shape: FilterShape) => `
  SELECT product_id, product_sort_key FROM (
    SELECT s.product_id, s.product_sort_key, row_number() OVER (ORDER BY s.product_sort_key, s.product_id) AS n
    FROM stock_lots s
    WHERE ${single ? 's.location_id = :location::uuid' : 's.location_id = ANY(:group::uuid[])'} AND ${MATCHING('s')}
      AND (s.product_sort_key, s.product_id) > (:afterKey, :afterId::uuid)${filterFor('s', shape)}
      AND NOT EXISTS (
        SELECT FROM stock_lots n
        WHERE n.location_id = ANY(:nearer::uuid[]) AND n.product_id = s.product_id AND n.available > 0
          AND n.expires_at > :freshAt
      )
    GROUP BY s.product_sort_key, s.product_id
  ) ranked
  WHERE n <= :need
  ORDER BY n`;
const SHAPES: FilterShape[] = ['plain', 'filtered', 'category'];
const byShape = (sql: (shape: FilterShape) => string) =>
  Object.fromEntries(SHAPES.map((shape) => [shape, sql(shape)])) as Record<FilterShape, string>;
const GROUP_PRODUCTS = {
  single: byShape((shape) => groupProductsSql(true, shape)),
  group: byShape((shape) => groupProductsSql(false, shape)),
};

// The same for every remaining location at once, when the nearest group left the page short (a search or a filter
// that few products pass): each location's first products in name order that no nearer group offers, in distance
// order. :ordered lists every location nearest first; a location's nearer ones are those before its group's first.
const restProductsSql = (shape: FilterShape) => `
  SELECT rest.grp, here.product_id, here.product_sort_key
  FROM unnest(:restIds::uuid[], :restGroups::int[], :restStarts::int[]) AS rest(id, grp, start)
  CROSS JOIN LATERAL (
    SELECT product_id, product_sort_key FROM (
      SELECT s.product_id, s.product_sort_key, row_number() OVER (ORDER BY s.product_sort_key, s.product_id) AS n
      FROM stock_lots s
      WHERE s.location_id = rest.id AND ${MATCHING('s')}${filterFor('s', shape)}
        AND NOT EXISTS (
          SELECT FROM stock_lots n
          WHERE n.location_id = ANY((:ordered::uuid[])[1:rest.start - 1]) AND n.product_id = s.product_id
            AND n.available > 0 AND n.expires_at > :freshAt
        )
      GROUP BY s.product_sort_key, s.product_id
    ) ranked
    WHERE n <= :need
  ) here
  ORDER BY rest.grp, here.product_sort_key, here.product_id`;
const REST_PRODUCTS = byShape(restProductsSql);

// Every nearby location's fresh stock of the page's products, with the products' list details.
const PAGE_STOCK_SQL = `
  SELECT s.location_id, s.product_id, s.product_sort_key, sum(s.available)::int AS available,
         coalesce(sum(s.available) FILTER (WHERE s.discount_from <= :now), 0)::int AS discounted,
         p.name, p.description, p.price_cents, p.eod_discount_percent
  FROM stock_lots s JOIN products p ON p.id = s.product_id
  WHERE s.location_id = ANY(:locationIds::uuid[]) AND s.product_id = ANY(:productIds::uuid[])
    AND s.available > 0 AND s.expires_at > :freshAt
  GROUP BY s.location_id, s.product_id, s.product_sort_key, p.id`;

export interface DistancePageRow {
  location_id: string;
  product_id: string;
  product_sort_key: string;
  /** The distance to the product's nearest stocking location. */
  lead: number;
  available: number;
  discounted: number;
  name: string;
  description: string;
  price_cents: number;
  eod_discount_percent: number;
}

/**
 * One page in distance order: the nearest location's products in name order, then the next location's that the
 * nearer ones don't offer, and so on until the page is complete; then the page's stock at every nearby location.
 * Locations at exactly the same distance are read together, so their products keep name order. A page so costs one
 * statement for the nearest group (which usually fills it), one for all the others when it did not, and one for the
 * stock: three round trips at most, however few products a search or a filter leaves at each location.
 */
export async function distancePage(
  db: Knex,
  opts: {
    /** Nearest first, then by id: the order the nearby query returns. */
    nearby: { id: string; distance_m: number }[];
    shape: FilterShape;
    bindings: Record<string, unknown> & { pageSize: number; afterKey: string; afterId: string };
    afterLead: number;
  },
): Promise<DistancePageRow[]> {
  const { nearby, bindings, afterLead } = opts;
  const groups: { distance: number; ids: string[] }[] = [];
  for (const l of nearby) {
    const last = groups.at(-1);
    if (last?.distance === l.distance_m) last.ids.push(l.id);
    else groups.push({ distance: l.distance_m, ids: [l.id] });
  }
  const suffix = opts.shape === 'plain' ? '' : `_${opts.shape}`;
  const page: { productId: string; lead: number }[] = [];
  const nearer: string[] = [];
  let readNearest = false;
  for (const [g, group] of groups.entries()) {
    if (page.length >= bindings.pageSize) break;
    // Groups before the cursor are done; the cursor's own group continues after its product.
    if (group.distance < afterLead) {
      nearer.push(...group.ids);
      continue;
    }
    // The nearest group usually fills the page; when it did not, every remaining location is read in one statement.
    if (readNearest && g < groups.length - 1) {
      await readRest(groups.slice(g));
      break;
    }
    const from = group.distance === afterLead ? {} : { afterKey: '', afterId: '00000000-0000-0000-0000-000000000000' };
    const single = group.ids.length === 1;
    const sql = GROUP_PRODUCTS[single ? 'single' : 'group'][opts.shape];
    const { rows } = await db
      .raw<{ rows: { product_id: string }[] }>(sql, {
        ...bindings,
        ...from,
        ...(single ? { location: group.ids[0] } : { group: group.ids }),
        nearer,
        need: bindings.pageSize - page.length,
      })
      .options({
        name: `availability_by_distance_${single ? 'single' : 'group'}${suffix}`,
      });
    for (const row of rows) page.push({ productId: row.product_id, lead: group.distance });
    nearer.push(...group.ids);
    readNearest = true;
  }

  /** Reads `rest`, groups all after the cursor's distance, and completes the page from them in distance order. */
  async function readRest(rest: typeof groups) {
    const restIds: string[] = [];
    const restGroups: number[] = [];
    const restStarts: number[] = [];
    const ordered = [...nearer];
    for (const [g, group] of rest.entries()) {
      const start = ordered.length + 1;
      for (const id of group.ids) {
        restIds.push(id);
        restGroups.push(g);
        restStarts.push(start);
      }
      ordered.push(...group.ids);
    }
    const { rows } = await db
      .raw<{ rows: { grp: number; product_id: string }[] }>(REST_PRODUCTS[opts.shape], {
        ...bindings,
        restIds,
        restGroups,
        restStarts,
        ordered,
        need: bindings.pageSize - page.length,
      })
      .options({ name: `availability_by_distance_rest${suffix}` });
    // Rows come group by group in name order; locations of one group may offer the same product.
    for (const row of rows) {
      if (page.length >= bindings.pageSize) break;
      if (page.at(-1)?.productId === row.product_id) continue;
      page.push({ productId: row.product_id, lead: rest[row.grp]!.distance });
    }
  }
  if (page.length === 0) return [];
  const { rows } = await db
    .raw<{ rows: Omit<DistancePageRow, 'lead'>[] }>(PAGE_STOCK_SQL, {
      now: bindings.now,
      freshAt: bindings.freshAt,
      locationIds: nearby.map((l) => l.id),
      productIds: page.map((p) => p.productId),
    })
    .options({ name: 'availability_by_distance_stock' });
  const place = new Map(page.map((p, i) => [p.productId, { ...p, rank: i }]));
  const distance = new Map(nearby.map((l, i) => [l.id, { distance: l.distance_m, rank: i }]));
  return rows
    .map((r) => ({ ...r, lead: place.get(r.product_id)!.lead }))
    .sort(
      (a, b) =>
        place.get(a.product_id)!.rank - place.get(b.product_id)!.rank ||
        distance.get(a.location_id)!.rank - distance.get(b.location_id)!.rank,
    );
}

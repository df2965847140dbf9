// The statements availability reads besides its name-ordered page: a page in price or distance order, and the facets
// (how many products of each category and tag) a search could narrow to. Both read the lots' copies of the product's
// category, tags and price from the lot index, and visit products only for the page.
import { PRODUCT_TAGS } from '../../domain/vocabulary.js';

/**
 * How a statement filters lots: not at all, by tags and price, or by those and a category. With a category the
 * condition is an equality an index can start from (the category order index); otherwise it holds for any category.
 */
export type FilterShape = 'plain' | 'filtered' | 'category';

/** The lots of products a filter keeps, as a condition on `lots`, a row of stock_lots. */
export const lotFilter = (lots: string, shape: Exclude<FilterShape, 'plain'> = 'filtered') => `${
  shape === 'category'
    ? `${lots}.product_category_id = :categoryId::uuid`
    : `(:categoryId::uuid IS NULL OR ${lots}.product_category_id = :categoryId::uuid)`
}
        AND ${lots}.product_tags @> :tags::text[] AND ${lots}.product_price_cents <= :maxPriceCents`;

/** The filter of `shape` as a further condition of a statement's WHERE, or nothing when plain. */
export const filterFor = (lots: string, shape: FilterShape) =>
  shape === 'plain' ? '' : `\n        AND ${lotFilter(lots, shape)}`;

// The nearby locations, as the caller already read them (ids and exact distances). Each location's lots come out of
// its own index: a join over the array would let Postgres scan the whole table.
const NEARBY = `nearby AS MATERIALIZED (
    SELECT * FROM unnest(:locationIds::uuid[], :distances::float8[]) AS n(id, distance_m)
  )`;
const FRESH_MATCHING = `s.location_id = nearby.id AND s.available > 0 AND s.expires_at > :freshAt
        AND s.product_sort_key LIKE ALL (ARRAY(SELECT lower(w) FROM unnest(:patterns::text[]) AS w))`;

/**
 * One page in `lead` order (a product's list price, or the distance to its nearest stocking location), then name, then
 * id. No index holds that order, so this reads every matching lot nearby before it ranks; both ways of reading a
 * page use it, whatever the number of locations.
 */
export function sortedPageSql(sort: 'price' | 'distance'): string {
  const lead = sort === 'price' ? 'min(stock.price_cents)::float8' : 'min(stock.distance_m)';
  return `
  WITH ${NEARBY},
  stock AS MATERIALIZED (
    SELECT nearby.id AS location_id, nearby.distance_m, here.*
    FROM nearby CROSS JOIN LATERAL (
      SELECT s.product_id, s.product_sort_key, min(s.product_price_cents) AS price_cents,
             sum(s.available)::int AS available,
             coalesce(sum(s.available) FILTER (WHERE s.discount_from <= :now), 0)::int AS discounted
      FROM stock_lots s
      WHERE ${FRESH_MATCHING}
        AND ${lotFilter('s')}
      GROUP BY s.product_id, s.product_sort_key
    ) here
  ),
  page AS (
    SELECT stock.product_id, stock.product_sort_key, ${lead} AS lead
    FROM stock
    GROUP BY stock.product_id, stock.product_sort_key
    HAVING (${lead}, stock.product_sort_key, stock.product_id) > (:afterLead::float8, :afterKey, :afterId::uuid)
    ORDER BY lead, stock.product_sort_key, stock.product_id
    LIMIT :pageSize
  )
  SELECT stock.location_id, stock.distance_m, stock.product_id, stock.product_sort_key, stock.available,
         stock.discounted, page.lead, p.name, p.description, p.price_cents, p.eod_discount_percent
  FROM page
  JOIN stock ON stock.product_id = page.product_id
  -- OFFSET 0 keeps this a lookup per row of the page, never a join over the whole catalogue.
  CROSS JOIN LATERAL (
    SELECT name, description, price_cents, eod_discount_percent FROM products WHERE id = page.product_id OFFSET 0
  ) p
  ORDER BY page.lead, page.product_sort_key, page.product_id, stock.distance_m, stock.location_id`;
}

/**
 * How many products nearby (matching the search words, before any filter) are in each category and carry each tag:
 * a row per category, then one row of the tag counts in PRODUCT_TAGS order. (Counting tags with FILTER reads each
 * product once; unnesting the arrays and grouping costs several times more.)
 */
export const FACETS_SQL = `
  WITH ${NEARBY},
  found AS MATERIALIZED (
    SELECT DISTINCT ON (here.product_id) here.*
    FROM nearby CROSS JOIN LATERAL (
      SELECT s.product_id, s.product_category_id AS category_id, s.product_tags AS tags
      FROM stock_lots s
      WHERE ${FRESH_MATCHING}
    ) here
  ),
  by_category AS (
    SELECT category_id, count(*)::int AS count FROM found WHERE category_id IS NOT NULL GROUP BY category_id
  )
  SELECT c.id, c.name, by_category.count, NULL::int[] AS tag_counts
  FROM by_category JOIN categories c ON c.id = by_category.category_id
  UNION ALL
  SELECT NULL, NULL, NULL, ARRAY[${PRODUCT_TAGS.map((tag) => `count(*) FILTER (WHERE tags @> '{${tag}}')::int`).join(', ')}]
  FROM found`;

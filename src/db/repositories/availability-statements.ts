// The statements availability reads besides its name-ordered page: a page in price or distance order, and the facets
// (how many products of each category and tag) a search could narrow to.

/** The products a filter keeps, as a condition on `p`, a row of products. */
export const PRODUCT_FILTER = `(:categoryId::uuid IS NULL OR p.category_id = :categoryId::uuid)
  AND p.tags @> :tags::text[] AND p.price_cents <= :maxPriceCents`;

// The nearby locations, as the caller already read them (ids and exact distances), and their fresh lots per product.
const NEARBY_STOCK = `
  nearby AS MATERIALIZED (SELECT * FROM unnest(:locationIds::uuid[], :distances::float8[]) AS n(id, distance_m)),
  stock AS MATERIALIZED (
    SELECT s.location_id, s.product_id, s.product_sort_key, nearby.distance_m,
           sum(s.available)::int AS available,
           coalesce(sum(s.available) FILTER (WHERE s.discount_from <= :now), 0)::int AS discounted
    FROM nearby JOIN stock_lots s ON s.location_id = nearby.id
    WHERE s.available > 0 AND s.expires_at > :freshAt
      AND s.product_sort_key LIKE ALL (ARRAY(SELECT lower(w) FROM unnest(:patterns::text[]) AS w))
    GROUP BY s.location_id, s.product_id, s.product_sort_key, nearby.distance_m
  )`;

/**
 * One page in `lead` order (a product's list price, or the distance to its nearest stocking location), then name, then
 * id. No index holds that order, so this reads every matching lot nearby before it ranks; both ways of reading a
 * page use it, whatever the number of locations.
 */
export function sortedPageSql(sort: 'price' | 'distance'): string {
  const lead = sort === 'price' ? 'p.price_cents::float8' : 'min(stock.distance_m)';
  return `
  WITH ${NEARBY_STOCK},
  page AS (
    SELECT stock.product_id, stock.product_sort_key, ${lead} AS lead
    FROM stock JOIN products p ON p.id = stock.product_id
    WHERE ${PRODUCT_FILTER}
    GROUP BY stock.product_id, stock.product_sort_key, p.price_cents
    HAVING (${lead}, stock.product_sort_key, stock.product_id) > (:afterLead::float8, :afterKey, :afterId::uuid)
    ORDER BY lead, stock.product_sort_key, stock.product_id
    LIMIT :pageSize
  )
  SELECT stock.location_id, stock.distance_m, stock.product_id, stock.product_sort_key, stock.available,
         stock.discounted, page.lead, p.name, p.description, p.price_cents, p.eod_discount_percent
  FROM page
  JOIN stock ON stock.product_id = page.product_id
  JOIN products p ON p.id = page.product_id
  ORDER BY page.lead, page.product_sort_key, page.product_id, stock.distance_m, stock.location_id`;
}

/** How many products nearby (matching the search words, before any filter) are in each category and carry each tag. */
export const FACETS_SQL = `
  WITH ${NEARBY_STOCK},
  found AS MATERIALIZED (
    SELECT p.category_id, p.tags FROM products p WHERE p.id IN (SELECT product_id FROM stock)
  )
  SELECT 'category' AS facet, c.id::text AS value, c.name, count(*)::int AS count
  FROM found JOIN categories c ON c.id = found.category_id
  GROUP BY c.id, c.name
  UNION ALL
  SELECT 'tag', tag, NULL, count(*)::int FROM found CROSS JOIN unnest(found.tags) AS tag GROUP BY tag`;

// Availability: what can reach a point, as one page of the union of fresh stock at every location that delivers there.
// Read only; the hot queries run as named prepared statements, so each connection plans them once, not on every request.
import type { Knex } from 'knex';
import type { LatLng } from '../../domain/geo.js';
import { discountedPriceCents } from '../../domain/pricing.js';
import type { LocationKind } from '../../domain/vocabulary.js';
import type { NearbyLocation } from './locations.js';

export interface AvailabilityItem {
  productId: string;
  name: string;
  description: string;
  /** The list price of one unit. */
  priceCents: number;
  /** What a unit from a lot in its end-of-day discount costs. */
  discountedPriceCents: number;
  /** The lowest price any available unit sells at right now. */
  priceInEffectCents: number;
  available: number;
  /** How many of `available` sell at the discounted price. */
  discountedAvailable: number;
  locations: {
    locationId: string;
    name: string;
    distanceM: number;
    available: number;
    discountedAvailable: number;
    priceInEffectCents: number;
  }[];
}

/** Where a page of availability ends: the last product's sort key (its name in lower case) and id. */
export interface AvailabilityKey {
  sortKey: string;
  productId: string;
}

/** `%`, `_` and `\` in a search word match themselves, not patterns. */
export const likePattern = (word: string) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// The locations that deliver to :lat, :lng. The GiST index finds those whose area's bounding cube holds the point,
// haversine decides. (Plain parameters, not subqueries, so Postgres inlines the geo functions.)
const DELIVERING_TO = `
  SELECT id, name, kind, lat, lng, delivery_radius_m, geo_distance_m(:lat, :lng, lat, lng) AS distance_m
  FROM locations
  WHERE geo_delivery_area(lat, lng, delivery_radius_m) @> geo_point(:lat, :lng)
    AND geo_distance_m(:lat, :lng, lat, lng) <= delivery_radius_m`;

const LOCATIONS_DELIVERING_TO = `${DELIVERING_TO} ORDER BY distance_m, id`;

// One page of the union of the nearby locations' fresh stock, in one round trip. Each location contributes at most
// one page of its own products (a product on the union's page is on every stocking location's own page), so the work
// is bounded by locations × page size, however much stock they hold.
const AVAILABILITY_PAGE = `
  WITH nearby AS MATERIALIZED (${DELIVERING_TO})
  SELECT page.location_id, nearby.name AS location_name, nearby.distance_m,
         page.product_id, page.product_sort_key, page.available, page.discounted,
         p.name, p.description, p.price_cents, p.eod_discount_percent
  FROM (
    SELECT hits.*, dense_rank() OVER (ORDER BY hits.product_sort_key, hits.product_id) AS rank
    FROM nearby AS l
    CROSS JOIN LATERAL (
      SELECT l.id AS location_id, s.product_sort_key, s.product_id,
             sum(s.available)::int AS available,
             coalesce(sum(s.available) FILTER (WHERE s.discount_from <= :now), 0)::int AS discounted
      FROM stock_lots s
      WHERE s.location_id = l.id AND s.available > 0 AND s.expires_at > :freshAt
        AND (s.product_sort_key, s.product_id) > (:afterKey, :afterId::uuid)
        AND s.product_sort_key LIKE ALL (ARRAY(SELECT lower(w) FROM unnest(:patterns::text[]) AS w))
      GROUP BY s.product_sort_key, s.product_id
      ORDER BY s.product_sort_key, s.product_id
      LIMIT :pageSize
    ) hits
  ) page
  JOIN nearby ON nearby.id = page.location_id
  JOIN products p ON p.id = page.product_id
  WHERE page.rank <= :pageSize
  ORDER BY page.rank, nearby.distance_m, page.location_id`;

/** Up to this many nearby locations, a page is read as a merge (below); more fall back to the lateral query above. */
const MERGE_MAX_LOCATIONS = 100;

// One page of the union as a merge, for the k locations already known to deliver to the point: each location's fresh
// lots come out of its index in name order, Postgres merges the k ordered scans and stops as soon as the page's
// products are complete. A page so reads about one page of lots in all, and a search reads until it has found one
// page of matches, where the lateral query reads a page (or, searching, nearly every lot) at each location.
function mergedPageSql(k: number): string {
  const branches = Array.from(
    { length: k },
    (_, i) => `(
      SELECT location_id, product_sort_key, product_id, available, discount_from FROM stock_lots
      WHERE location_id = :loc${i}::uuid AND available > 0 AND expires_at > :freshAt
        AND (product_sort_key, product_id) > (:afterKey, :afterId::uuid)
        AND product_sort_key LIKE ALL (ARRAY(SELECT lower(w) FROM unnest(:patterns::text[]) AS w))
      ORDER BY product_sort_key, product_id)`,
  ).join(' UNION ALL ');
  return `
  SELECT page.location_id, page.product_id, page.product_sort_key, page.rank, page.available, page.discounted,
         p.name, p.description, p.price_cents, p.eod_discount_percent
  FROM (
    SELECT lots.location_id, lots.product_id, lots.product_sort_key, lots.rank::int AS rank,
           sum(lots.available)::int AS available,
           coalesce(sum(lots.available) FILTER (WHERE lots.discount_from <= :now), 0)::int AS discounted
    FROM (
      SELECT merged.*, dense_rank() OVER (ORDER BY merged.product_sort_key, merged.product_id) AS rank
      FROM (${
        k === 1
          ? branches
          : `${branches}
      ORDER BY product_sort_key, product_id`
      }) merged
    ) lots
    WHERE lots.rank <= :pageSize
    GROUP BY lots.location_id, lots.product_id, lots.product_sort_key, lots.rank
  ) page
  -- OFFSET 0 keeps this a lookup per row of the page, never a join over the whole catalogue.
  CROSS JOIN LATERAL (SELECT name, description, price_cents, eod_discount_percent FROM products WHERE id = page.product_id OFFSET 0) p`;
}

const mergedPageSqls = new Map<number, string>();

/** Sorts before every product: the empty key is the least text, the nil uuid the least id. */
const BEFORE_EVERY_PRODUCT: AvailabilityKey = { sortKey: '', productId: '00000000-0000-0000-0000-000000000000' };

interface AvailabilityRow {
  location_id: string;
  location_name: string;
  distance_m: number;
  product_id: string;
  product_sort_key: string;
  available: number;
  discounted: number;
  name: string;
  description: string;
  price_cents: number;
  eod_discount_percent: number;
}

export function createAvailabilityRepository(db: Knex, opts: { mergeMaxLocations?: number } = {}) {
  const mergeMaxLocations = opts.mergeMaxLocations ?? MERGE_MAX_LOCATIONS;
  /** The locations that deliver to `point`, nearest first, as Postgres returns them. */
  const nearbyRows = async (point: LatLng) =>
    (
      await db
        .raw<{
          rows: {
            id: string;
            name: string;
            kind: LocationKind;
            lat: number;
            lng: number;
            delivery_radius_m: number;
            distance_m: number;
          }[];
        }>(LOCATIONS_DELIVERING_TO, { lat: point.lat, lng: point.lng })
        .options({ name: 'locations_delivering_to' })
    ).rows;
  return {
    /** Locations whose delivery area covers `point`, nearest first. */
    async locationsDeliveringTo(point: LatLng): Promise<NearbyLocation[]> {
      const rows = await nearbyRows(point);
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        kind: r.kind,
        lat: r.lat,
        lng: r.lng,
        deliveryRadiusM: r.delivery_radius_m,
        distanceM: Math.round(r.distance_m),
      }));
    },

    /** One page of what can be delivered to `point`: the union of fresh stock across every location that reaches it. */
    async availabilityPage(opts: {
      point: LatLng;
      /** Lots must still be fresh at this moment. */
      freshAt: Date;
      now: Date;
      /** Every word must appear in the product name, ignoring case. */
      words: string[];
      after: AvailabilityKey | undefined;
      limit: number;
    }): Promise<{ items: AvailabilityItem[]; last: AvailabilityKey | undefined; hasMore: boolean }> {
      const after = opts.after ?? BEFORE_EVERY_PRODUCT;
      const bindings = {
        now: opts.now,
        freshAt: opts.freshAt,
        afterKey: after.sortKey,
        afterId: after.productId,
        patterns: opts.words.map(likePattern),
        // One more than the page: whether it exists says whether there is a next page.
        pageSize: opts.limit + 1,
      };
      let rows: AvailabilityRow[];
      const nearby = await nearbyRows(opts.point);
      if (nearby.length === 0) return { items: [], last: undefined, hasMore: false };
      if (nearby.length <= mergeMaxLocations) {
        const k = nearby.length;
        let sql = mergedPageSqls.get(k);
        if (sql === undefined) mergedPageSqls.set(k, (sql = mergedPageSql(k)));
        const result = await db
          .raw<{ rows: (Omit<AvailabilityRow, 'location_name' | 'distance_m'> & { rank: number })[] }>(sql, {
            ...bindings,
            ...Object.fromEntries(nearby.map((l, i) => [`loc${i}`, l.id])),
          })
          .options({ name: `availability_merge_${k}` });
        const byId = new Map(nearby.map((l) => [l.id, l]));
        // Within a product, nearest location first, as the lateral query orders them.
        rows = result.rows
          .map((r) => ({
            ...r,
            location_name: byId.get(r.location_id)!.name,
            distance_m: byId.get(r.location_id)!.distance_m,
          }))
          .sort(
            (a, b) =>
              a.rank - b.rank ||
              a.distance_m - b.distance_m ||
              (a.location_id < b.location_id ? -1 : a.location_id > b.location_id ? 1 : 0),
          );
      } else {
        ({ rows } = await db
          .raw<{ rows: AvailabilityRow[] }>(AVAILABILITY_PAGE, {
            ...bindings,
            lat: opts.point.lat,
            lng: opts.point.lng,
          })
          .options({ name: 'availability_page' }));
      }

      const items: (AvailabilityItem & { key: AvailabilityKey })[] = [];
      for (const row of rows) {
        let item = items.at(-1);
        if (item?.productId !== row.product_id) {
          const product = { priceCents: row.price_cents, eodDiscountPercent: row.eod_discount_percent };
          item = {
            key: { sortKey: row.product_sort_key, productId: row.product_id },
            productId: row.product_id,
            name: row.name,
            description: row.description,
            priceCents: row.price_cents,
            discountedPriceCents: discountedPriceCents(product),
            priceInEffectCents: row.price_cents,
            available: 0,
            discountedAvailable: 0,
            locations: [],
          };
          items.push(item);
        }
        const priceInEffectCents = row.discounted > 0 ? item.discountedPriceCents : item.priceCents;
        item.available += row.available;
        item.discountedAvailable += row.discounted;
        item.priceInEffectCents = Math.min(item.priceInEffectCents, priceInEffectCents);
        // Rows come nearest location first.
        item.locations.push({
          locationId: row.location_id,
          name: row.location_name,
          distanceM: Math.round(row.distance_m),
          available: row.available,
          discountedAvailable: row.discounted,
          priceInEffectCents,
        });
      }
      const hasMore = items.length > opts.limit;
      const page = items.slice(0, opts.limit);
      return { items: page.map(({ key: _key, ...item }) => item), last: page.at(-1)?.key, hasMore };
    },
  };
}

export type AvailabilityRepository = ReturnType<typeof createAvailabilityRepository>;

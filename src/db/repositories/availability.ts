// Availability: what can reach a point, as one page of the union of fresh stock at every location that delivers there.
// Read only; the hot queries run as named prepared statements, so each connection plans them once, not on every request.
import type { Knex } from 'knex';
import type { LatLng } from '../../domain/geo.js';
import { discountedPriceCents } from '../../domain/pricing.js';
import { PRODUCT_TAGS, type AvailabilitySort, type ProductTag } from '../../domain/vocabulary.js';
import { queryPrepared } from '../prepared.js';
import { distanceFirstPageSql, distancePage, mergedPageSql } from './availability-merge.js';
import { createReachEstimate, type ReachEstimate } from './reach-estimate.js';
import { FACETS_SQL, filterFor, sortedPageSql, type FilterShape } from './availability-statements.js';
import type { LocationRow, NearbyLocation } from './locations.js';

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

/**
 * Where a page of availability ends: the last product's sort key (its name in lower case) and id, and in price or
 * distance order first its list price or the exact distance to its nearest stocking location.
 */
export interface AvailabilityKey {
  lead?: number;
  sortKey: string;
  productId: string;
}

/** What a page keeps of the products nearby; every filter given must hold. */
export interface AvailabilityFilter {
  categoryId?: string;
  /** The product carries every one of these. */
  tags?: ProductTag[];
  /** At most this list price. */
  maxPriceCents?: number;
}

/** How many products nearby, before any filter, are in each category and carry each tag; none are left out. */
export interface AvailabilityFacets {
  categories: { id: string; name: string; count: number }[];
  tags: { tag: ProductTag; count: number }[];
}

export interface AvailabilityPage {
  items: AvailabilityItem[];
  last: AvailabilityKey | undefined;
  hasMore: boolean;
  facets: AvailabilityFacets | undefined;
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
const availabilityPageSql = (shape: FilterShape) => `
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
        AND s.product_sort_key LIKE ALL (ARRAY(SELECT lower(w) FROM unnest(:patterns::text[]) AS w))${filterFor('s', shape)}
      GROUP BY s.product_sort_key, s.product_id
      ORDER BY s.product_sort_key, s.product_id
      LIMIT :pageSize
    ) hits
  ) page
  JOIN nearby ON nearby.id = page.location_id
  JOIN products p ON p.id = page.product_id
  WHERE page.rank <= :pageSize
  ORDER BY page.rank, nearby.distance_m, page.location_id`;

/** Up to this many nearby locations, a page is read as a merge (availability-merge.ts); more fall back to the lateral query. */
const MERGE_MAX_LOCATIONS = 100;
/**
 * A page in name or price order without facets is read in one round trip, the merge finding the locations itself and
 * making room for half, all or twice this many of them (about ten deliver to most points), whichever is the least that
 * holds the number a copy of the locations estimates. When the statement finds more, it is read again with room for
 * them, or, beyond twice this many, knowing them.
 */
const ONE_TRIP_LOCATIONS = 16;

const mergedPageSqls = new Map<string, { sql: string; name: string }>();

/** The merge statement for k locations (given, or found by the statement itself when `finding`), built once per variant. */
function mergedStatement(k: number, shape: FilterShape, sort: AvailabilitySort, finding: boolean) {
  const order = sort === 'price' ? 'price' : 'name';
  const variant = `${finding ? 'one_trip_' : ''}${shape === 'plain' ? '' : `${shape}_`}${order === 'price' ? 'price_' : ''}${k}`;
  let statement = mergedPageSqls.get(variant);
  if (statement === undefined)
    mergedPageSqls.set(
      variant,
      (statement = {
        sql: mergedPageSql(k, shape, order, finding ? DELIVERING_TO : undefined),
        name: `availability_merge_${variant}`,
      }),
    );
  return statement;
}
const AVAILABILITY_PAGE = {
  plain: availabilityPageSql('plain'),
  filtered: availabilityPageSql('filtered'),
  category: availabilityPageSql('category'),
};
const SORTED_PAGE = { price: sortedPageSql('price'), distance: sortedPageSql('distance') };
const DISTANCE_FIRST_PAGE = {
  plain: distanceFirstPageSql('plain', DELIVERING_TO),
  filtered: distanceFirstPageSql('filtered', DELIVERING_TO),
  category: distanceFirstPageSql('category', DELIVERING_TO),
};

/**
 * Sorts before every product: prices and distances are never negative, the empty key is the least text, the nil uuid
 * the least id.
 */
const BEFORE_EVERY_PRODUCT = { lead: -1, sortKey: '', productId: '00000000-0000-0000-0000-000000000000' };
/** The largest integer column value: no price is above it. */
const ANY_PRICE = 2_147_483_647;

interface AvailabilityRow {
  lead?: number;
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

/** The one row of a page read in one round trip when no product is on it: every product column is null. */
type NoProduct = { [K in keyof AvailabilityRow]: null };

export function createAvailabilityRepository(
  db: Knex,
  opts: { mergeMaxLocations?: number; oneTripLocations?: number; reach?: ReachEstimate } = {},
) {
  const mergeMaxLocations = opts.mergeMaxLocations ?? MERGE_MAX_LOCATIONS;
  const oneTripLocations = Math.min(opts.oneTripLocations ?? ONE_TRIP_LOCATIONS, mergeMaxLocations);
  // The rooms a one-trip statement comes in: half, all and twice the usual.
  const rooms = [Math.ceil(oneTripLocations / 2), oneTripLocations, Math.min(2 * oneTripLocations, mergeMaxLocations)];
  const reach = opts.reach ?? createReachEstimate(db);
  /** The locations that deliver to `point`, nearest first, as Postgres returns them. */
  const nearbyRows = (point: LatLng) =>
    queryPrepared<
      Pick<LocationRow, 'id' | 'name' | 'kind' | 'lat' | 'lng' | 'delivery_radius_m'> & { distance_m: number }
    >(db, 'locations_delivering_to', LOCATIONS_DELIVERING_TO, { lat: point.lat, lng: point.lng });
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

    /**
     * One page of what can be delivered to `point`: the union of fresh stock across every location that reaches it,
     * with the facets of the whole result before filters.
     */
    async availabilityPage(opts: {
      point: LatLng;
      /** Lots must still be fresh at this moment. */
      freshAt: Date;
      now: Date;
      /** Every word must appear in the product name, ignoring case. */
      words: string[];
      filter?: AvailabilityFilter;
      /** name (the default), price or distance. */
      sort?: AvailabilitySort;
      after: AvailabilityKey | undefined;
      limit: number;
      /** Count the facets too (every nearby fresh lot, so it costs more than a page); true unless told otherwise. */
      facets?: boolean;
    }): Promise<AvailabilityPage> {
      const sort = opts.sort ?? 'name';
      const after = { ...BEFORE_EVERY_PRODUCT, ...opts.after };
      const filter = opts.filter ?? {};
      const shape: FilterShape =
        filter.categoryId !== undefined
          ? 'category'
          : (filter.tags?.length ?? 0) > 0 || filter.maxPriceCents !== undefined
            ? 'filtered'
            : 'plain';
      const bindings = {
        now: opts.now,
        freshAt: opts.freshAt,
        afterKey: after.sortKey,
        afterId: after.productId,
        patterns: opts.words.map(likePattern),
        // One more than the page: whether it exists says whether there is a next page.
        pageSize: opts.limit + 1,
        categoryId: filter.categoryId ?? null,
        tags: filter.tags ?? [],
        maxPriceCents: filter.maxPriceCents ?? ANY_PRICE,
      };
      // The first page in distance order is read in one round trip.
      if (opts.facets === false && sort === 'distance' && opts.after === undefined && oneTripLocations > 0) {
        const rows = await queryPrepared<(AvailabilityRow & { lead: number }) | NoProduct>(
          db,
          `availability_by_distance_first${shape === 'plain' ? '' : `_${shape}`}`,
          DISTANCE_FIRST_PAGE[shape],
          { ...bindings, lat: opts.point.lat, lng: opts.point.lng },
        );
        return pageOf(
          rows.filter((r): r is AvailabilityRow & { lead: number } => r.product_id !== null),
          undefined,
          sort,
          opts.limit,
        );
      }
      if (opts.facets === false && sort !== 'distance' && oneTripLocations > 0) {
        // The least room that holds the locations estimated to deliver there; after a statement found more, the least
        // that holds those.
        let need = reach.count(opts.point) ?? oneTripLocations;
        for (const k of rooms) {
          if (k < need) continue;
          const { sql, name } = mergedStatement(k, shape, sort, true);
          const rows = await queryPrepared<(AvailabilityRow | NoProduct) & { nearby_count: number }>(db, name, sql, {
            ...bindings,
            lat: opts.point.lat,
            lng: opts.point.lng,
            afterPrice: Math.floor(after.lead),
          });
          const nearbyCount = rows[0]!.nearby_count;
          // The page is complete unless more locations deliver there than the statement read.
          if (nearbyCount <= k)
            return pageOf(
              rows.filter((r): r is AvailabilityRow & { nearby_count: number } => r.product_id !== null),
              undefined,
              sort,
              opts.limit,
            );
          need = nearbyCount;
        }
      }
      const nearby = await nearbyRows(opts.point);
      if (nearby.length === 0)
        return {
          items: [],
          last: undefined,
          hasMore: false,
          facets: opts.facets === false ? undefined : { categories: [], tags: [] },
        };
      const nearbyBindings = {
        ...bindings,
        locationIds: nearby.map((l) => l.id),
        distances: nearby.map((l) => l.distance_m),
      };
      const byId = new Map(nearby.map((l) => [l.id, l]));

      const readPage = async (): Promise<AvailabilityRow[]> => {
        const located = <R extends { location_id: string }>(r: R) => ({
          ...r,
          location_name: byId.get(r.location_id)!.name,
          distance_m: byId.get(r.location_id)!.distance_m,
        });
        if (nearby.length <= mergeMaxLocations && sort === 'distance') {
          const rows = await distancePage(db, { nearby, shape, bindings, afterLead: after.lead });
          return rows.map(located);
        }
        if (nearby.length <= mergeMaxLocations) {
          const { sql, name } = mergedStatement(nearby.length, shape, sort, false);
          const rows = await queryPrepared<Omit<AvailabilityRow, 'location_name' | 'distance_m'> & { rank: number }>(
            db,
            name,
            sql,
            {
              ...bindings,
              // A real cursor's price is whole; any other number continues after the prices below it.
              afterPrice: Math.floor(after.lead),
              ...Object.fromEntries(nearby.map((l, i) => [`loc${i}`, l.id])),
            },
          );
          // Within a product, nearest location first, as the lateral query orders them.
          return rows
            .map(located)
            .sort(
              (a, b) =>
                a.rank - b.rank ||
                a.distance_m - b.distance_m ||
                (a.location_id < b.location_id ? -1 : a.location_id > b.location_id ? 1 : 0),
            );
        }
        if (sort !== 'name') {
          const result = await db
            .raw<{ rows: Omit<AvailabilityRow, 'location_name'>[] }>(SORTED_PAGE[sort], {
              ...nearbyBindings,
              afterLead: after.lead,
            })
            .options({ name: `availability_by_${sort}` });
          return result.rows.map((r) => ({ ...r, location_name: byId.get(r.location_id)!.name }));
        }
        const result = await db
          .raw<{ rows: AvailabilityRow[] }>(AVAILABILITY_PAGE[shape], {
            ...bindings,
            lat: opts.point.lat,
            lng: opts.point.lng,
          })
          .options({ name: shape === 'plain' ? 'availability_page' : `availability_page_${shape}` });
        return result.rows;
      };
      const readFacets = async (): Promise<AvailabilityFacets> => {
        const { rows } = await db
          .raw<{
            rows: { id: string | null; name: string | null; count: number | null; tag_counts: number[] | null }[];
          }>(FACETS_SQL, nearbyBindings)
          .options({ name: 'availability_facets' });
        const tagCounts = rows.find((r) => r.tag_counts !== null)?.tag_counts ?? [];
        return {
          categories: rows
            .filter((r) => r.id !== null)
            .map((r) => ({ id: r.id!, name: r.name!, count: r.count! }))
            .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1)),
          // Most first, ties in the vocabulary's order (the sort is stable); tags no product carries are left out.
          tags: PRODUCT_TAGS.map((tag, i) => ({ tag, count: tagCounts[i] ?? 0 }))
            .filter((t) => t.count > 0)
            .sort((a, b) => b.count - a.count),
        };
      };
      const [rows, facets] = await Promise.all([readPage(), opts.facets === false ? undefined : readFacets()]);
      return pageOf(rows, facets, sort, opts.limit);
    },
  };
}

/** The page's items from its rows, which come product by product and, within one, nearest location first. */
function pageOf(
  rows: AvailabilityRow[],
  facets: AvailabilityFacets | undefined,
  sort: AvailabilitySort,
  limit: number,
): AvailabilityPage {
  const items: (AvailabilityItem & { key: AvailabilityKey })[] = [];
  for (const row of rows) {
    let item = items.at(-1);
    if (item?.productId !== row.product_id) {
      const product = { priceCents: row.price_cents, eodDiscountPercent: row.eod_discount_percent };
      item = {
        key: {
          ...(sort === 'name' ? {} : { lead: row.lead! }),
          sortKey: row.product_sort_key,
          productId: row.product_id,
        },
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
  const hasMore = items.length > limit;
  const page = items.slice(0, limit);
  return { items: page.map(({ key: _key, ...item }) => item), last: page.at(-1)?.key, hasMore, facets };
}

export type AvailabilityRepository = ReturnType<typeof createAvailabilityRepository>;

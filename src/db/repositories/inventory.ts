// The catalog and its stock as the API reads and writes them: products, locations, received lots, and the nearby availability union.
import type { Knex } from 'knex';
import { appendEvent, streams } from '../../events/log.js';
import type { LatLng } from '../../domain/geo.js';
import { discountedPriceCents, endOfDayDiscountFrom } from '../../domain/pricing.js';

export type LocationKind = 'bakery' | 'kitchen' | 'dc';

export interface ProductView {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  shelfLifeMinutes: number;
  eodDiscountPercent: number;
  createdAt: string;
}

export interface LocationView {
  id: string;
  name: string;
  kind: LocationKind;
  lat: number;
  lng: number;
  deliveryRadiusM: number;
  timezone: string;
  /** Local wall-clock time, HH:MM. */
  opensAt: string;
  closesAt: string;
  ownerIds: string[];
  createdAt: string;
}

export interface NearbyLocation extends Pick<LocationView, 'id' | 'name' | 'kind' | 'lat' | 'lng' | 'deliveryRadiusM'> {
  distanceM: number;
}

export interface LotView {
  id: number;
  locationId: string;
  productId: string;
  quantity: number;
  available: number;
  reserved: number;
  sold: number;
  discarded: number;
  producedAt: string;
  expiresAt: string;
  discountFrom: string | null;
}

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

export type ReceiveLotResult =
  | { status: 'received'; lot: LotView }
  | { status: 'unknown_location' | 'unknown_product' }
  | { status: 'already_expired'; expiresAt: string }
  | { status: 'expires_before_produced' };

/** Receiving under an Idempotency-Key: a new lot, the lot the key already received, or a refusal. */
export type ReceiveLotOnceResult =
  | ReceiveLotResult
  | { status: 'replayed'; lot: LotView }
  | { status: 'idempotency_key_reused' };

/** A caller's Idempotency-Key and the digest of the request it comes with. */
export interface LotIdempotencyKey {
  userId: string;
  key: string;
  requestHash: string;
}

interface ProductRow {
  id: string;
  name: string;
  description: string;
  price_cents: number;
  shelf_life_minutes: number;
  eod_discount_percent: number;
  created_at: Date;
}

interface LocationRow {
  id: string;
  name: string;
  kind: LocationKind;
  lat: number;
  lng: number;
  delivery_radius_m: number;
  timezone: string;
  opens_at: string;
  closes_at: string;
  created_at: Date;
}

interface LotRow {
  id: number;
  location_id: string;
  product_id: string;
  quantity: number;
  available: number;
  reserved: number;
  sold: number;
  discarded: number;
  produced_at: Date;
  expires_at: Date;
  discount_from: Date | null;
}

const productView = (r: ProductRow): ProductView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  priceCents: r.price_cents,
  shelfLifeMinutes: r.shelf_life_minutes,
  eodDiscountPercent: r.eod_discount_percent,
  createdAt: r.created_at.toISOString(),
});

const LOT_COLUMNS = ['id', 'location_id', 'product_id', 'quantity', 'available', 'reserved', 'sold', 'discarded', 'produced_at', 'expires_at', 'discount_from'] as const;

/** Thrown inside the receiving transaction when a racing request claimed the key first, so the lot rolls back. */
class KeyClaimedMeanwhile extends Error {}

const hhmm = (time: string) => time.slice(0, 5);

const locationView = (r: LocationRow, ownerIds: string[]): LocationView => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  lat: r.lat,
  lng: r.lng,
  deliveryRadiusM: r.delivery_radius_m,
  timezone: r.timezone,
  opensAt: hhmm(r.opens_at),
  closesAt: hhmm(r.closes_at),
  ownerIds,
  createdAt: r.created_at.toISOString(),
});

const lotView = (r: LotRow): LotView => ({
  id: r.id,
  locationId: r.location_id,
  productId: r.product_id,
  quantity: r.quantity,
  available: r.available,
  reserved: r.reserved,
  sold: r.sold,
  discarded: r.discarded,
  producedAt: r.produced_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  discountFrom: r.discount_from?.toISOString() ?? null,
});

/** `%`, `_` and `\` in a search word match themselves, not patterns. */
const likePattern = (word: string) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// The hot queries below run as named prepared statements: each connection plans them once, not on every request.

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
  const branches = Array.from({ length: k }, (_, i) => `(
      SELECT location_id, product_sort_key, product_id, available, discount_from FROM stock_lots
      WHERE location_id = :loc${i}::uuid AND available > 0 AND expires_at > :freshAt
        AND (product_sort_key, product_id) > (:afterKey, :afterId::uuid)
        AND product_sort_key LIKE ALL (ARRAY(SELECT lower(w) FROM unnest(:patterns::text[]) AS w))
      ORDER BY product_sort_key, product_id)`).join(' UNION ALL ');
  return `
  SELECT page.location_id, page.product_id, page.product_sort_key, page.rank, page.available, page.discounted,
         p.name, p.description, p.price_cents, p.eod_discount_percent
  FROM (
    SELECT lots.location_id, lots.product_id, lots.product_sort_key, lots.rank::int AS rank,
           sum(lots.available)::int AS available,
           coalesce(sum(lots.available) FILTER (WHERE lots.discount_from <= :now), 0)::int AS discounted
    FROM (
      SELECT merged.*, dense_rank() OVER (ORDER BY merged.product_sort_key, merged.product_id) AS rank
      FROM (${k === 1 ? branches : `${branches}
      ORDER BY product_sort_key, product_id`}) merged
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

export function createInventoryRepository(db: Knex, opts: { mergeMaxLocations?: number } = {}) {
  const mergeMaxLocations = opts.mergeMaxLocations ?? MERGE_MAX_LOCATIONS;
  /** The locations that deliver to `point`, nearest first, as Postgres returns them. */
  const nearbyRows = async (point: LatLng) =>
    (await db.raw<{ rows: (LocationRow & { distance_m: number })[] }>(LOCATIONS_DELIVERING_TO, { lat: point.lat, lng: point.lng }).options({ name: 'locations_delivering_to' })).rows;
  const repository = {
    async createProduct(input: { name: string; description: string; priceCents: number; shelfLifeMinutes: number; eodDiscountPercent: number }): Promise<ProductView> {
      const [row] = await db('products')
        .insert({
          name: input.name,
          description: input.description,
          price_cents: input.priceCents,
          shelf_life_minutes: input.shelfLifeMinutes,
          eod_discount_percent: input.eodDiscountPercent,
        })
        .returning<ProductRow[]>('*');
      return productView(row!);
    },

    async isKnownTimezone(timezone: string): Promise<boolean> {
      // Postgres computes closing times in this zone, so its own list is the one that counts.
      const row = await db('pg_timezone_names').where({ name: timezone }).first('name');
      return row !== undefined;
    },

    /** Owners among `userIds`; the rest are unknown users or not owners. */
    async ownersAmong(userIds: string[]): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await db('users').whereIn('id', userIds).andWhere({ role: 'owner' }).select<{ id: string }[]>('id');
      return new Set(rows.map((r) => r.id));
    },

    async createLocation(input: Omit<LocationView, 'id' | 'createdAt'>): Promise<LocationView> {
      return db.transaction(async (trx) => {
        const [row] = await trx('locations')
          .insert({
            name: input.name,
            kind: input.kind,
            lat: input.lat,
            lng: input.lng,
            delivery_radius_m: input.deliveryRadiusM,
            timezone: input.timezone,
            opens_at: input.opensAt,
            closes_at: input.closesAt,
          })
          .returning<LocationRow[]>('*');
        if (input.ownerIds.length > 0) {
          await trx('location_owners').insert(input.ownerIds.map((userId) => ({ user_id: userId, location_id: row!.id })));
        }
        return locationView(row!, input.ownerIds);
      });
    },

    /**
     * Receives one lot: producedAt defaults to now, expiresAt to producedAt plus the product's shelf life, and the
     * end-of-day discount starts half an hour before the lot stops selling (expiry or the location's closing).
     */
    async receiveLot(
      input: { locationId: string; productId: string; quantity: number; producedAt?: Date; expiresAt?: Date; sourceKey?: string },
      now: Date,
      trx: Knex | Knex.Transaction = db,
    ): Promise<ReceiveLotResult> {
      if (input.sourceKey !== undefined) {
        // The same source (a production run) receives one lot however often it is retried.
        const existing = await trx('stock_lots')
          .where({ source_key: input.sourceKey })
          .first<LotRow | undefined>(LOT_COLUMNS);
        if (existing) return { status: 'received', lot: lotView(existing) };
      }
      const product = await trx('products').where({ id: input.productId }).first<{ shelf_life_minutes: number } | undefined>('shelf_life_minutes');
      if (!product) return { status: 'unknown_product' };
      const producedAt = input.producedAt ?? now;
      // The location's closing times on the local day of production and the next, in its own time zone.
      const closings = await trx.raw<{ rows: { closes: Date }[] }>(
        `SELECT ((((?::timestamptz AT TIME ZONE l.timezone)::date + d.offset_days) + l.closes_at) AT TIME ZONE l.timezone) AS closes
         FROM locations l CROSS JOIN (VALUES (0), (1)) AS d(offset_days) WHERE l.id = ?`,
        [producedAt, input.locationId],
      );
      if (closings.rows.length === 0) return { status: 'unknown_location' };
      const expiresAt = input.expiresAt ?? new Date(producedAt.getTime() + product.shelf_life_minutes * 60_000);
      if (expiresAt.getTime() <= now.getTime()) return { status: 'already_expired', expiresAt: expiresAt.toISOString() };
      if (expiresAt.getTime() <= producedAt.getTime()) return { status: 'expires_before_produced' };
      const discountFrom = endOfDayDiscountFrom({ producedAt, expiresAt }, closings.rows.map((r) => r.closes));

      const [row] = await trx('stock_lots')
        .insert({
          location_id: input.locationId,
          product_id: input.productId,
          quantity: input.quantity,
          available: input.quantity,
          // Units 0..quantity-1, all free.
          free_units: trx.raw('int4multirange(int4range(0, ?))', [input.quantity]),
          produced_at: producedAt,
          expires_at: expiresAt,
          discount_from: discountFrom,
          source_key: input.sourceKey ?? null,
        })
        .returning<LotRow[]>(LOT_COLUMNS);
      const lot = lotView(row!);
      await appendEvent(trx, streams.location(input.locationId), 'stock.received', { lotId: lot.id, productId: lot.productId, quantity: lot.quantity, expiresAt: lot.expiresAt });
      return { status: 'received', lot };
    },

    /**
     * Receives a lot under the caller's Idempotency-Key. The key is stored in the lot's own transaction and is unique
     * per caller, so a retry, even one racing the first request, finds the lot already received instead of making a
     * second; the same key with another request is refused. A refused lot claims no key.
     */
    async receiveLotOnce(
      idempotency: LotIdempotencyKey,
      input: { locationId: string; productId: string; quantity: number; producedAt?: Date; expiresAt?: Date },
      now: Date,
    ): Promise<ReceiveLotOnceResult> {
      const earlier = async (): Promise<ReceiveLotOnceResult | undefined> => {
        const row = await db('lot_idempotency_keys as k')
          .join('stock_lots as s', 's.id', 'k.lot_id')
          .where({ 'k.user_id': idempotency.userId, 'k.key': idempotency.key })
          .first<(LotRow & { request_hash: string }) | undefined>(['k.request_hash', ...LOT_COLUMNS.map((c) => `s.${c}`)]);
        if (!row) return undefined;
        return row.request_hash === idempotency.requestHash ? { status: 'replayed', lot: lotView(row) } : { status: 'idempotency_key_reused' };
      };

      const before = await earlier();
      if (before) return before;
      try {
        return await db.transaction(async (trx) => {
          const result = await repository.receiveLot(input, now, trx);
          if (result.status !== 'received') return result;
          // Waits for a racing request that holds the same key until it commits (then claims nothing) or rolls back.
          const claimed = await trx('lot_idempotency_keys')
            .insert({ user_id: idempotency.userId, key: idempotency.key, request_hash: idempotency.requestHash, lot_id: result.lot.id })
            .onConflict(['user_id', 'key'])
            .ignore()
            .returning('key');
          if (claimed.length === 0) throw new KeyClaimedMeanwhile();
          return result;
        });
      } catch (err) {
        if (!(err instanceof KeyClaimedMeanwhile)) throw err;
      }
      const raced = await earlier();
      if (!raced) throw new Error(`Idempotency-Key ${idempotency.key} of user ${idempotency.userId} vanished after a conflicting insert`);
      return raced;
    },

    /** Available units per product at one location that are still fresh at `at`. */
    async freshUnits(locationId: string, productIds: string[], at: Date, trx: Knex | Knex.Transaction = db): Promise<Map<string, number>> {
      const rows = await trx('stock_lots')
        .where({ location_id: locationId })
        .whereIn('product_id', productIds)
        .andWhere('available', '>', 0)
        .andWhere('expires_at', '>', at)
        .groupBy('product_id')
        .select<{ product_id: string; units: number }[]>('product_id', trx.raw('sum(available)::int AS units'));
      return new Map(rows.map((r) => [r.product_id, r.units]));
    },

    /**
     * Receives a fresh lot of each product that has fewer than `minimumUnits` units still fresh two hours from now,
     * so a location always has something to sell (the demo seed calls this on every start).
     */
    async topUpFreshStock(locationId: string, productIds: string[], now: Date, opts = { minimumUnits: 50, lotSize: 100 }): Promise<LotView[]> {
      const soon = new Date(now.getTime() + 2 * 3_600_000);
      const fresh = await repository.freshUnits(locationId, productIds, soon);
      const received: LotView[] = [];
      for (const productId of productIds) {
        if ((fresh.get(productId) ?? 0) >= opts.minimumUnits) continue;
        const result = await repository.receiveLot({ locationId, productId, quantity: opts.lotSize }, now);
        if (result.status === 'received') received.push(result.lot);
      }
      return received;
    },

    /** Locations whose delivery area covers `point`, nearest first. */
    async locationsDeliveringTo(point: LatLng): Promise<NearbyLocation[]> {
      const rows = await nearbyRows(point);
      return rows.map((r) => ({ id: r.id, name: r.name, kind: r.kind, lat: r.lat, lng: r.lng, deliveryRadiusM: r.delivery_radius_m, distanceM: Math.round(r.distance_m) }));
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
        const result = await db.raw<{ rows: (Omit<AvailabilityRow, 'location_name' | 'distance_m'> & { rank: number })[] }>(sql, {
          ...bindings,
          ...Object.fromEntries(nearby.map((l, i) => [`loc${i}`, l.id])),
        }).options({ name: `availability_merge_${k}` });
        const byId = new Map(nearby.map((l) => [l.id, l]));
        // Within a product, nearest location first, as the lateral query orders them.
        rows = result.rows
          .map((r) => ({ ...r, location_name: byId.get(r.location_id)!.name, distance_m: byId.get(r.location_id)!.distance_m }))
          .sort((a, b) => a.rank - b.rank || a.distance_m - b.distance_m || (a.location_id < b.location_id ? -1 : a.location_id > b.location_id ? 1 : 0));
      } else {
        ({ rows } = await db.raw<{ rows: AvailabilityRow[] }>(AVAILABILITY_PAGE, { ...bindings, lat: opts.point.lat, lng: opts.point.lng }).options({ name: 'availability_page' }));
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
        item.locations.push({ locationId: row.location_id, name: row.location_name, distanceM: Math.round(row.distance_m), available: row.available, discountedAvailable: row.discounted, priceInEffectCents });
      }
      const hasMore = items.length > opts.limit;
      const page = items.slice(0, opts.limit);
      return { items: page.map(({ key: _key, ...item }) => item), last: page.at(-1)?.key, hasMore };
    },
  };
  return repository;
}

export type InventoryRepository = ReturnType<typeof createInventoryRepository>;

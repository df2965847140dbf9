// The catalog and its stock as the API reads and writes them: products, locations, received lots, and the nearby availability union.
import type { Knex } from 'knex';
import { appendEvent, streams } from '../../events/log.js';
import { haversineMeters, type LatLng } from '../../domain/geo.js';
import { discountedPriceCents, endOfDayDiscountFrom } from '../../domain/pricing.js';
import { formatUnitRanges } from '../../domain/stock.js';

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

export interface NearbyLocation {
  id: string;
  name: string;
  kind: LocationKind;
  lat: number;
  lng: number;
  deliveryRadiusM: number;
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

/** Where a page of availability ends: the last product's name and id, in the database's name order. */
export interface AvailabilityKey {
  name: string;
  productId: string;
}

export type ReceiveLotResult =
  | { status: 'received'; lot: LotView }
  | { status: 'unknown_location' | 'unknown_product' }
  | { status: 'already_expired'; expiresAt: string }
  | { status: 'expires_before_produced' };

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

export const lotView = (r: LotRow): LotView => ({
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

export function createInventoryRepository(db: Knex) {
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

    async findProduct(productId: string): Promise<ProductView | undefined> {
      const row = await db('products').where({ id: productId }).first<ProductRow | undefined>();
      return row && productView(row);
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

    async createLocation(input: {
      name: string;
      kind: LocationKind;
      lat: number;
      lng: number;
      deliveryRadiusM: number;
      timezone: string;
      opensAt: string;
      closesAt: string;
      ownerIds: string[];
    }): Promise<LocationView> {
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

    async locationExists(locationId: string): Promise<boolean> {
      return (await db('locations').where({ id: locationId }).first('id')) !== undefined;
    },

    /**
     * Receives one lot: producedAt defaults to now, expiresAt to producedAt plus the product's shelf life, and the
     * end-of-day discount starts half an hour before the lot stops selling (expiry or the location's closing).
     */
    async receiveLot(
      input: { locationId: string; productId: string; quantity: number; producedAt?: Date; expiresAt?: Date },
      now: Date,
      trx: Knex | Knex.Transaction = db,
    ): Promise<ReceiveLotResult> {
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
          // The trigger copies the current name; the column is NOT NULL, so give it a placeholder.
          product_name: '',
          quantity: input.quantity,
          available: input.quantity,
          free_units: formatUnitRanges([[0, input.quantity]]),
          produced_at: producedAt,
          expires_at: expiresAt,
          discount_from: discountFrom,
        })
        .returning<LotRow[]>(['id', 'location_id', 'product_id', 'quantity', 'available', 'reserved', 'sold', 'discarded', 'produced_at', 'expires_at', 'discount_from']);
      const lot = lotView(row!);
      await appendEvent(trx, streams.location(input.locationId), 'stock.received', { lotId: lot.id, productId: lot.productId, quantity: lot.quantity, expiresAt: lot.expiresAt });
      return { status: 'received', lot };
    },

    /** Fresh units available now per product at one location. */
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
      // The GiST index narrows to locations whose area's bounding cube holds the point; haversine decides.
      const { rows } = await db.raw<{ rows: LocationRow[] }>(
        `SELECT id, name, kind, lat, lng, delivery_radius_m FROM locations
         WHERE geo_delivery_area(lat, lng, delivery_radius_m) @> geo_point(?, ?)`,
        [point.lat, point.lng],
      );
      return rows
        .map((r) => ({ id: r.id, name: r.name, kind: r.kind, lat: r.lat, lng: r.lng, deliveryRadiusM: r.delivery_radius_m, distanceM: Math.round(haversineMeters(point, r)) }))
        .filter((l) => haversineMeters(point, l) <= l.deliveryRadiusM)
        .sort((a, b) => a.distanceM - b.distanceM || a.id.localeCompare(b.id));
    },

    /**
     * One page of the union of fresh stock across `locations`, in product name order. Each location contributes at
     * most one page of its own products (a product on the union's page is on every stocking location's own page),
     * so the work is bounded by locations × page size, not by how much stock they hold.
     */
    async availabilityPage(opts: {
      locations: NearbyLocation[];
      /** Lots must still be fresh at this moment. */
      freshAt: Date;
      now: Date;
      words: string[];
      after: AvailabilityKey | undefined;
      limit: number;
    }): Promise<{ items: AvailabilityItem[]; last: AvailabilityKey | undefined; hasMore: boolean }> {
      if (opts.locations.length === 0) return { items: [], last: undefined, hasMore: false };
      const filters: string[] = [];
      const bindings: Knex.RawBinding[] = [opts.locations.map((l) => l.id), opts.now, opts.freshAt];
      if (opts.after) {
        filters.push('AND (s.product_name, s.product_id) > (?, ?::uuid)');
        bindings.push(opts.after.name, opts.after.productId);
      }
      for (const word of opts.words) {
        filters.push('AND s.product_name ILIKE ?');
        bindings.push(likePattern(word));
      }
      bindings.push(opts.limit + 1, opts.limit + 1);
      const { rows } = await db.raw<{ rows: {
        location_id: string;
        product_id: string;
        product_name: string;
        available: number;
        discounted: number;
        name: string;
        description: string;
        price_cents: number;
        eod_discount_percent: number;
      }[] }>(
        `WITH hits AS (
           SELECT l.location_id, x.product_name, x.product_id, x.available, x.discounted
           FROM unnest(?::uuid[]) AS l(location_id)
           CROSS JOIN LATERAL (
             SELECT s.product_name, s.product_id,
                    sum(s.available)::int AS available,
                    coalesce(sum(s.available) FILTER (WHERE s.discount_from <= ?), 0)::int AS discounted
             FROM stock_lots s
             WHERE s.location_id = l.location_id AND s.available > 0 AND s.expires_at > ?
               ${filters.join('\n               ')}
             GROUP BY s.product_name, s.product_id
             ORDER BY s.product_name, s.product_id
             LIMIT ?
           ) x
         ), page AS (
           SELECT DISTINCT product_name, product_id FROM hits ORDER BY product_name, product_id LIMIT ?
         )
         SELECT h.location_id, h.product_id, h.product_name, h.available, h.discounted,
                p.name, p.description, p.price_cents, p.eod_discount_percent
         FROM page
         JOIN hits h ON h.product_name = page.product_name AND h.product_id = page.product_id
         JOIN products p ON p.id = page.product_id
         ORDER BY page.product_name, page.product_id`,
        bindings,
      );

      const nearby = new Map(opts.locations.map((l) => [l.id, l]));
      const items: (AvailabilityItem & { key: AvailabilityKey })[] = [];
      for (const row of rows) {
        let item = items.at(-1);
        if (item?.productId !== row.product_id) {
          const product = { priceCents: row.price_cents, eodDiscountPercent: row.eod_discount_percent };
          item = {
            key: { name: row.product_name, productId: row.product_id },
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
        const location = nearby.get(row.location_id)!;
        const priceInEffectCents = row.discounted > 0 ? item.discountedPriceCents : item.priceCents;
        item.available += row.available;
        item.discountedAvailable += row.discounted;
        item.priceInEffectCents = Math.min(item.priceInEffectCents, priceInEffectCents);
        item.locations.push({ locationId: location.id, name: location.name, distanceM: location.distanceM, available: row.available, discountedAvailable: row.discounted, priceInEffectCents });
      }
      for (const item of items) item.locations.sort((a, b) => a.distanceM - b.distanceM || a.locationId.localeCompare(b.locationId));
      const hasMore = items.length > opts.limit;
      const page = items.slice(0, opts.limit);
      return { items: page.map(({ key: _key, ...item }) => item), last: page.at(-1)?.key, hasMore };
    },
  };
  return repository;
}

export type InventoryRepository = ReturnType<typeof createInventoryRepository>;

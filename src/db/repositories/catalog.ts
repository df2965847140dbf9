// Locations and products as the order path needs them.
import type { Knex } from 'knex';
import type { LatLng } from '../../domain/geo.js';

export function createCatalogRepository(db: Knex) {
  return {
    async locationExists(locationId: string): Promise<boolean> {
      return (await db('locations').where({ id: locationId }).first('id')) !== undefined;
    },

    /** Where a location is and how far it delivers; undefined when there is no such location. */
    async findDeliveryArea(locationId: string): Promise<(LatLng & { deliveryRadiusM: number }) | undefined> {
      const row = await db('locations').where({ id: locationId }).first<{ lat: number; lng: number; delivery_radius_m: number } | undefined>('lat', 'lng', 'delivery_radius_m');
      return row && { lat: row.lat, lng: row.lng, deliveryRadiusM: row.delivery_radius_m };
    },

    async findSlot(slotId: string): Promise<{ id: string; locationId: string; startsAt: string; endsAt: string } | undefined> {
      const row = await db('slots').where({ id: slotId }).first<{ id: string; location_id: string; starts_at: Date; ends_at: Date } | undefined>('id', 'location_id', 'starts_at', 'ends_at');
      return row && { id: row.id, locationId: row.location_id, startsAt: row.starts_at.toISOString(), endsAt: row.ends_at.toISOString() };
    },

    async pricesFor(productIds: string[]): Promise<Map<string, number>> {
      const rows = await db('products').whereIn('id', productIds).select<{ id: string; price_cents: number }[]>('id', 'price_cents');
      return new Map(rows.map((r) => [r.id, r.price_cents]));
    },
  };
}

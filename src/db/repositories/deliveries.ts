// The deliveries read model: the one writer of deliveries. What an owner has to assign and what a driver has to carry;
// a delivery's status moves only forward, with its events in the same transaction.
import type { Knex } from 'knex';
import { DELIVERY_STATUS_RANK, DELIVERY_STATUSES, type DeliveryStatus } from '../../domain/vocabulary.js';
import { streams } from '../../events/log.js';
import { changeAndTell } from './events.js';

export interface DeliveryView {
  orderId: string;
  locationId: string;
  driverId: string | null;
  status: DeliveryStatus;
  slotStartsAt: string | null;
  address: { lat: number; lng: number; line1: string };
  updatedAt: string;
}

export interface DeliveryStatusChange {
  orderId: string;
  locationId: string;
  status: DeliveryStatus;
  driverId: string | null;
}

export function deliveryStatusesBefore(status: DeliveryStatus): DeliveryStatus[] {
  return DELIVERY_STATUSES.filter((s) => DELIVERY_STATUS_RANK[s] < DELIVERY_STATUS_RANK[status]);
}

export function createDeliveryRepository(db: Knex) {
  return {
    /**
     * Moves the delivery row forward (creating it when pending) and appends the change to the order's, the location's
     * and the driver's streams, in one statement; a repeat (or a step back) changes nothing and appends nothing.
     */
    async writeStatus(change: DeliveryStatusChange): Promise<void> {
      const payload = { orderId: change.orderId, deliveryStatus: change.status, driverId: change.driverId };
      const named = [
        streams.order(change.orderId),
        streams.location(change.locationId),
        ...(change.driverId ? [streams.driver(change.driverId)] : []),
      ];
      await changeAndTell(db, {
        change: {
          sql: `changed AS (
              INSERT INTO deliveries (order_id, location_id, status, driver_id) VALUES (?, ?, ?, ?)
              ON CONFLICT (order_id) DO UPDATE
              SET status = EXCLUDED.status, driver_id = EXCLUDED.driver_id, updated_at = CURRENT_TIMESTAMP
              WHERE deliveries.status = ANY(?::text[])
              RETURNING order_id
            )`,
          bindings: [
            change.orderId,
            change.locationId,
            change.status,
            change.driverId,
            deliveryStatusesBefore(change.status),
          ],
        },
        told: {
          sql: `SELECT s.stream, s.n, ?::jsonb AS payload, CASE WHEN s.n = 2 THEN ?::uuid END AS webhook_location
                FROM changed, unnest(?::text[]) WITH ORDINALITY AS s(stream, n)`,
          bindings: [JSON.stringify(payload), change.locationId, named],
        },
        type: 'delivery.status',
        payload,
        streamsForSpan: named,
      });
    },

    async find(
      orderId: string,
    ): Promise<{ orderId: string; locationId: string; driverId: string | null; status: string } | undefined> {
      const row = await db('deliveries')
        .where({ order_id: orderId })
        .first<{ order_id: string; location_id: string; driver_id: string | null; status: string } | undefined>();
      return row && { orderId: row.order_id, locationId: row.location_id, driverId: row.driver_id, status: row.status };
    },

    async list(filter: {
      locationIds?: string[];
      driverId?: string;
      status?: string;
      limit: number;
    }): Promise<DeliveryView[]> {
      const query = db('deliveries as d')
        .join('orders as o', 'o.id', 'd.order_id')
        // An order cancelled after its delivery started leaves no work for an owner or a driver.
        .whereNot('o.status', 'cancelled')
        .select<
          {
            order_id: string;
            location_id: string;
            driver_id: string | null;
            status: DeliveryStatus;
            slot_starts_at: Date | null;
            address: DeliveryView['address'];
            updated_at: Date;
          }[]
        >('d.order_id', 'd.location_id', 'd.driver_id', 'd.status', 'o.slot_starts_at', 'o.address', 'd.updated_at')
        .orderBy([
          { column: 'o.slot_starts_at', order: 'asc' },
          { column: 'd.order_id', order: 'asc' },
        ])
        .limit(filter.limit);
      if (filter.locationIds) query.whereIn('d.location_id', filter.locationIds);
      if (filter.driverId) query.where('d.driver_id', filter.driverId);
      if (filter.status) query.where('d.status', filter.status);
      const rows = await query;
      return rows.map((r) => ({
        orderId: r.order_id,
        locationId: r.location_id,
        driverId: r.driver_id,
        status: r.status,
        slotStartsAt: r.slot_starts_at?.toISOString() ?? null,
        address: r.address,
        updatedAt: r.updated_at.toISOString(),
      }));
    },
  };
}

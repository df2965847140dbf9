// Locations: the one writer of locations, and the location reads of the routes and live views.
import type { Knex } from 'knex';
import { createStaffRepository } from './staff.js';
import type { LatLng } from '../../domain/geo.js';
import type { LocationKind } from '../../domain/vocabulary.js';
import { streams } from '../../events/log.js';
import { atomic } from '../knex.js';
import { appendEvent } from './events.js';

export type { LocationKind };

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

/** What a location's owners may change about it; each field left out stays as it is. */
export type LocationSettingsChange = Partial<Pick<LocationView, 'name' | 'deliveryRadiusM' | 'opensAt' | 'closesAt'>>;

/** A row of `locations` as Postgres returns it. */
export interface LocationRow {
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

export function createLocationRepository(db: Knex) {
  return {
    async locationExists(locationId: string): Promise<boolean> {
      return (await db('locations').where({ id: locationId }).first('id')) !== undefined;
    },

    async findLocation(locationId: string): Promise<LocationView | undefined> {
      const row = await db('locations').where({ id: locationId }).first<LocationRow | undefined>();
      if (!row) return undefined;
      const owners = await db('location_staff')
        .where({ location_id: locationId, role: 'owner' })
        .orderBy('user_id')
        .select<{ user_id: string }[]>('user_id');
      return locationView(
        row,
        owners.map((o) => o.user_id),
      );
    },

    /** Where a location is and how far it delivers; undefined when there is no such location. */
    async findDeliveryArea(locationId: string): Promise<(LatLng & { deliveryRadiusM: number }) | undefined> {
      const row = await db('locations')
        .where({ id: locationId })
        .first<{ lat: number; lng: number; delivery_radius_m: number } | undefined>('lat', 'lng', 'delivery_radius_m');
      return row && { lat: row.lat, lng: row.lng, deliveryRadiusM: row.delivery_radius_m };
    },

    /** How long the location keeps a ready collection order waiting, and its number on the board, in minutes. */
    async findCollectionTimes(
      locationId: string,
    ): Promise<{ collectionWindowMinutes: number; boardHoldMinutes: number } | undefined> {
      const row = await db('locations')
        .where({ id: locationId })
        .first<{ collection_window_minutes: number; board_hold_minutes: number } | undefined>(
          'collection_window_minutes',
          'board_hold_minutes',
        );
      return (
        row && { collectionWindowMinutes: row.collection_window_minutes, boardHoldMinutes: row.board_hold_minutes }
      );
    },

    /** Changes how long ready collection orders wait and stay on the board; undefined when there is no such location. */
    async updateCollectionTimes(
      locationId: string,
      times: { collectionWindowMinutes?: number; boardHoldMinutes?: number },
    ): Promise<{ collectionWindowMinutes: number; boardHoldMinutes: number } | undefined> {
      const [row] = await db('locations')
        .where({ id: locationId })
        .update({
          ...(times.collectionWindowMinutes === undefined
            ? {}
            : { collection_window_minutes: times.collectionWindowMinutes }),
          ...(times.boardHoldMinutes === undefined ? {} : { board_hold_minutes: times.boardHoldMinutes }),
        })
        .returning<{ collection_window_minutes: number; board_hold_minutes: number }[]>([
          'collection_window_minutes',
          'board_hold_minutes',
        ]);
      return (
        row && { collectionWindowMinutes: row.collection_window_minutes, boardHoldMinutes: row.board_hold_minutes }
      );
    },

    /**
     * Changes the location's own settings under its row lock and tells its live views, in one transaction. Opening
     * hours are checked together with the ones kept: closing must come after opening. Undefined when there is no such
     * location.
     */
    async updateSettings(
      locationId: string,
      change: LocationSettingsChange,
    ): Promise<
      | { status: 'updated'; location: LocationView }
      | { status: 'closes_before_opens'; opensAt: string; closesAt: string }
      | undefined
    > {
      return atomic(db, async (trx) => {
        const current = await trx('locations')
          .where({ id: locationId })
          .forNoKeyUpdate()
          .first<LocationRow | undefined>();
        if (!current) return undefined;
        const opensAt = change.opensAt ?? hhmm(current.opens_at);
        const closesAt = change.closesAt ?? hhmm(current.closes_at);
        // HH:MM strings order as the times they name.
        if (closesAt <= opensAt) return { status: 'closes_before_opens', opensAt, closesAt };
        const [row] = await trx('locations')
          .where({ id: locationId })
          .update({
            ...(change.name === undefined ? {} : { name: change.name }),
            ...(change.deliveryRadiusM === undefined ? {} : { delivery_radius_m: change.deliveryRadiusM }),
            ...(change.opensAt === undefined ? {} : { opens_at: change.opensAt }),
            ...(change.closesAt === undefined ? {} : { closes_at: change.closesAt }),
          })
          .returning<LocationRow[]>('*');
        await appendEvent(trx, streams.location(locationId), 'location.changed', { locationId });
        const owners = await trx('location_staff')
          .where({ location_id: locationId, role: 'owner' })
          .orderBy('user_id')
          .select<{ user_id: string }[]>('user_id');
        return {
          status: 'updated',
          location: locationView(
            row!,
            owners.map((o) => o.user_id),
          ),
        };
      });
    },

    /** Ids and names of these locations, by name. */
    async names(locationIds: readonly string[]): Promise<{ id: string; name: string }[]> {
      return db('locations')
        .whereIn('id', locationIds)
        .orderBy('name')
        .select<{ id: string; name: string }[]>('id', 'name');
    },

    async findName(locationId: string): Promise<{ id: string; name: string } | undefined> {
      return db('locations').where({ id: locationId }).first<{ id: string; name: string } | undefined>('id', 'name');
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
      return atomic(db, async (trx) => {
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
        await createStaffRepository(trx).add(
          row!.id,
          input.ownerIds.map((userId) => ({ userId, role: 'owner' as const })),
          trx,
        );
        return locationView(row!, input.ownerIds);
      });
    },
  };
}

export type LocationRepository = ReturnType<typeof createLocationRepository>;

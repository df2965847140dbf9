// How many locations deliver to a point, estimated from a copy of every location's place and radius that is refreshed
// in the background once it is a minute old. It only sizes a statement: a page read in one round trip makes room for
// so many locations, and the statement itself says how many it found, so a stale copy costs a second read, never a
// wrong page.
import type { Knex } from 'knex';
import { deliversTo, type LatLng } from '../../domain/geo.js';

export interface ReachEstimate {
  /** Locations delivering to `point` as of the copy, or undefined until the first copy is read. */
  count(point: LatLng): number | undefined;
}

interface Place extends LatLng {
  deliveryRadiusM: number;
}

/** Grid cells of this many degrees; each location is filed under every cell its delivery area's bounding box meets. */
const CELL_DEGREES = 0.25;
const LNG_CELLS = 360 / CELL_DEGREES;
const METRES_PER_DEGREE_LAT = 111_195;

const cellOf = (lat: number, lng: number) =>
  `${Math.floor(lat / CELL_DEGREES)}:${(((Math.floor(lng / CELL_DEGREES) % LNG_CELLS) + LNG_CELLS) % LNG_CELLS).toString()}`;

function gridOf(places: Place[]): Map<string, Place[]> {
  const grid = new Map<string, Place[]>();
  for (const place of places) {
    const dLat = place.deliveryRadiusM / METRES_PER_DEGREE_LAT;
    const cos = Math.cos((Math.min(89, Math.abs(place.lat) + dLat) * Math.PI) / 180);
    const dLng = Math.min(180, dLat / cos);
    for (let lat = Math.max(-90, place.lat - dLat); ; lat = Math.min(lat + CELL_DEGREES, place.lat + dLat)) {
      for (let lng = place.lng - dLng; ; lng = Math.min(lng + CELL_DEGREES, place.lng + dLng)) {
        const cell = cellOf(lat, lng);
        const list = grid.get(cell);
        if (list === undefined) grid.set(cell, [place]);
        else if (list.at(-1) !== place) list.push(place);
        if (lng >= place.lng + dLng) break;
      }
      if (lat >= Math.min(90, place.lat + dLat)) break;
    }
  }
  return grid;
}

export function createReachEstimate(db: Knex, opts: { maxAgeMs?: number } = {}): ReachEstimate {
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  let grid: Map<string, Place[]> | undefined;
  let readAt = -Infinity;
  let reading = false;
  const refresh = () => {
    reading = true;
    db('locations')
      .select<Place[]>('lat', 'lng', { deliveryRadiusM: 'delivery_radius_m' })
      .then((places) => {
        grid = gridOf(places);
      })
      // A failed read keeps the copy there is (or none), and is tried again only once the copy would be old: the
      // estimate is only ever a hint, and no request should wait on or add to a database that is failing.
      .catch(() => undefined)
      .finally(() => {
        readAt = Date.now();
        reading = false;
      });
  };
  return {
    count(point) {
      if (!reading && Date.now() - readAt > maxAgeMs) refresh();
      if (grid === undefined) return undefined;
      let count = 0;
      for (const place of grid.get(cellOf(point.lat, point.lng)) ?? []) if (deliversTo(place, point)) count++;
      return count;
    },
  };
}

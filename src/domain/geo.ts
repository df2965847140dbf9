// Distances on the Earth's surface and the delivery-area rule: a location delivers to points within its 1-hour radius.

/** Mean Earth radius (IUGG); the database's geo_point() uses the same value. */
export const EARTH_RADIUS_M = 6_371_008.8;

/**
 * The farthest a location may promise to deliver within the hour: a courier's hour on open roads.
 * Larger radii would make "within the hour" a lie and the nearby union needlessly wide.
 */
export const MAX_DELIVERY_RADIUS_M = 50_000;

export interface LatLng {
  lat: number;
  lng: number;
}

const radians = (degrees: number) => (degrees * Math.PI) / 180;

/**
 * Great-circle distance in metres (haversine, stable for short distances). The database's geo_distance_m() is the
 * same formula, so the nearby union can be decided inside the query that serves it; a test holds the two equal.
 */
export function haversineMeters(a: LatLng, b: LatLng): number {
  const dLat = radians(b.lat - a.lat);
  const dLng = radians(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.lat)) * Math.cos(radians(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Whether a location reaches `point` within its delivery bound; the edge counts as inside. */
export function deliversTo(location: LatLng & { deliveryRadiusM: number }, point: LatLng): boolean {
  return haversineMeters(location, point) <= location.deliveryRadiusM;
}

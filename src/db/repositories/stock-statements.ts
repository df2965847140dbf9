// The texts of the stock repository's statements (stock-lots.ts runs them). Each is one statement, so what it checks
// and what it changes happen under the same locks.

/** How many lots one discard transaction takes at most; a sweep repeats until a batch comes back short. */
export const DISCARD_BATCH = 1_000;

/** The location's closing times on the local day of production and the next, in its own time zone. */
export const CLOSINGS_OF_PRODUCTION_DAY = `
  SELECT ((((?::timestamptz AT TIME ZONE l.timezone)::date + d.offset_days) + l.closes_at) AT TIME ZONE l.timezone) AS closes
  FROM locations l CROSS JOIN (VALUES (0), (1)) AS d(offset_days) WHERE l.id = ?`;

/**
 * Discards the unreserved units of the lots `due` selects and locks (`SELECT id, available ... FOR NO KEY UPDATE`):
 * reserved and sold units are the orders' and stay. The one discard statement, whatever makes a lot due.
 */
export const discardDue = (due: string) => `
  WITH due AS (${due})
  UPDATE stock_lots s SET discarded = s.discarded + s.available, discarded_units = s.discarded_units + s.free_units,
         available = 0, free_units = '{}'
  FROM due WHERE s.id = due.id
  RETURNING s.id, s.location_id, s.product_id, due.available AS units`;

/** One lot, if it has expired and has units left; waits for a transaction that holds it. */
export const DUE_EXPIRED_LOT = `
  SELECT id, available FROM stock_lots WHERE id = ? AND expires_at <= now() AND available > 0 FOR NO KEY UPDATE`;

/** Up to a batch of expired lots with units left, skipping lots busy elsewhere. */
export const DUE_EXPIRED = `
  SELECT id, available FROM stock_lots WHERE expires_at <= now() AND available > 0
  ORDER BY id LIMIT ? FOR NO KEY UPDATE SKIP LOCKED`;

/**
 * Up to a batch of lots produced before their location's most recent closing (in the location's own time zone) that
 * has already passed. Lots baked after closing, for the next day, are not touched.
 */
export const DUE_AFTER_CLOSING = `
  WITH closing AS (
    SELECT l.id AS location_id,
           (((now() AT TIME ZONE l.timezone)::date + l.closes_at) AT TIME ZONE l.timezone) AS today
    FROM locations l
  ), last_closing AS (
    SELECT location_id,
           CASE WHEN today <= now() THEN today
                ELSE ((((now() AT TIME ZONE l.timezone)::date - 1) + l.closes_at) AT TIME ZONE l.timezone) END AS at
    FROM closing JOIN locations l ON l.id = closing.location_id
  )
  SELECT s.id, s.available FROM stock_lots s JOIN last_closing c ON c.location_id = s.location_id
  WHERE s.available > 0 AND s.produced_at < c.at
  ORDER BY s.id LIMIT ? FOR NO KEY UPDATE OF s SKIP LOCKED`;

/** Locks the given lots in lot id order. */
export const LOCK_LOTS = `SELECT id FROM stock_lots WHERE id = ANY(?::bigint[]) ORDER BY id FOR NO KEY UPDATE`;

/** Marks the order's reserved units sold and moves them from reserved to sold on their lots. */
export const SELL_RESERVED = `
  WITH sold AS (
    UPDATE stock_allocations SET state = 'sold' WHERE order_id = ? AND state = 'reserved'
    RETURNING lot_id, quantity
  ), per_lot AS (
    SELECT lot_id, sum(quantity)::int AS quantity FROM sold GROUP BY lot_id
  )
  UPDATE stock_lots s SET reserved = s.reserved - b.quantity, sold = s.sold + b.quantity
  FROM per_lot b WHERE s.id = b.lot_id`;

/** Locks the order's claim, or leaves a released one (a tombstone) when it has none; says which. */
export const RELEASE_OR_TOMBSTONE = `
  INSERT INTO stock_reservations (order_id, status) VALUES (?, 'released')
  ON CONFLICT (order_id) DO UPDATE SET updated_at = stock_reservations.updated_at
  RETURNING status, (xmax = 0) AS created`;

/** Gives the order's reserved units back to their lots, or to the discard pile of a lot that expired meanwhile. */
export const GIVE_BACK_RESERVED = `
  WITH back AS (
    UPDATE stock_allocations SET state = 'released' WHERE order_id = ? AND state = 'reserved'
    RETURNING lot_id, units, quantity
  ), per_lot AS (
    SELECT lot_id, range_agg(u) AS units, sum(quantity)::int AS quantity
    FROM back, unnest(units) AS u GROUP BY lot_id
  )
  UPDATE stock_lots s SET
    reserved = s.reserved - b.quantity,
    available = CASE WHEN s.expires_at > ? THEN s.available + b.quantity ELSE s.available END,
    free_units = CASE WHEN s.expires_at > ? THEN s.free_units + b.units ELSE s.free_units END,
    discarded = CASE WHEN s.expires_at > ? THEN s.discarded ELSE s.discarded + b.quantity END,
    discarded_units = CASE WHEN s.expires_at > ? THEN s.discarded_units ELSE s.discarded_units + b.units END
  FROM per_lot b WHERE s.id = b.lot_id`;

// Stock lots with unit identity, per-order reservations of concrete units, and the indexes that make the nearby union fast.
import type { Knex } from 'knex';

// Mean Earth radius, the same one src/domain/geo.ts uses for haversine.
const EARTH_RADIUS_M = 6371008.8;

// Postgres raises an error where float arithmetic underflows, so degrees and sines below 1e-60 (far less than a
// nanometre on the ground) count as zero before anything multiplies them.
const tinyAsZero = (x: string) => `(CASE WHEN abs(${x}) < 1e-60 THEN 0 ELSE ${x} END)`;
// sin²(angle / 2)
const halfChordSquared = (angle: string) => `(${tinyAsZero(`sin(${angle} / 2)`)} * ${tinyAsZero(`sin(${angle} / 2)`)})`;

export async function up(knex: Knex): Promise<void> {
  // cube gives a GiST-indexable 3D box (no PostGIS here); btree_gist lets one exclusion constraint mix = and &&.
  // Both are trusted extensions, so the database owner may create them.
  await knex.raw('CREATE EXTENSION IF NOT EXISTS cube');
  await knex.raw('CREATE EXTENSION IF NOT EXISTS btree_gist');

  // The geo functions are single SQL expressions and not STRICT, so Postgres inlines them into the queries.
  // A point on the Earth's surface in Earth-centred metres. Working in 3D means no special cases at the poles or the antimeridian.
  await knex.raw(`
    CREATE FUNCTION geo_point(lat double precision, lng double precision) RETURNS cube
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN cube(ARRAY[
      ${EARTH_RADIUS_M} * cos(radians(${tinyAsZero('lat')})) * cos(radians(${tinyAsZero('lng')})),
      ${EARTH_RADIUS_M} * cos(radians(${tinyAsZero('lat')})) * sin(radians(${tinyAsZero('lng')})),
      ${EARTH_RADIUS_M} * sin(radians(${tinyAsZero('lat')}))
    ]::double precision[])`);
  // Great-circle distance in metres by haversine: the same formula as haversineMeters in src/domain/geo.ts (a test
  // holds them equal), so the nearby union is decided in the one query that serves it.
  await knex.raw(`
    CREATE FUNCTION geo_distance_m(lat1 double precision, lng1 double precision, lat2 double precision, lng2 double precision)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 2 * ${EARTH_RADIUS_M} * asin(least(1, sqrt(
      ${halfChordSquared(`radians(${tinyAsZero('lat2')} - ${tinyAsZero('lat1')})`)}
      + cos(radians(${tinyAsZero('lat1')})) * cos(radians(${tinyAsZero('lat2')})) * ${halfChordSquared(`radians(${tinyAsZero('lng2')} - ${tinyAsZero('lng1')})`)})))`);
  // The cube around every point within radius_m along the surface: each coordinate differs by at most the chord.
  // It is only a prefilter for the GiST index (the corners reach further); geo_distance_m decides. The margin absorbs rounding.
  await knex.raw(`
    CREATE FUNCTION geo_delivery_area(lat double precision, lng double precision, radius_m double precision) RETURNS cube
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN cube_enlarge(
      geo_point(lat, lng),
      2 * ${EARTH_RADIUS_M} * sin(least(radius_m / (2 * ${EARTH_RADIUS_M}), pi() / 2)) * 1.001 + 1,
      3)`);

  await knex.raw(`
    ALTER TABLE locations
      ADD CONSTRAINT locations_lat_check CHECK (lat BETWEEN -90 AND 90),
      ADD CONSTRAINT locations_lng_check CHECK (lng BETWEEN -180 AND 180),
      ADD CONSTRAINT locations_radius_check CHECK (delivery_radius_m > 0)`);
  // "Which locations deliver to this point?" is a containment test against each location's own delivery area.
  await knex.raw(
    'CREATE INDEX locations_delivery_area_idx ON locations USING gist (geo_delivery_area(lat, lng, delivery_radius_m))',
  );

  await knex.schema.createTable('stock_lots', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('location_id').notNullable().references('locations.id');
    t.uuid('product_id').notNullable().references('products.id');
    // lower(products.name), kept in step by triggers: the order customers browse in and what search matches,
    // so one index serves "nearby products in name order" without touching products.
    t.text('product_sort_key').notNullable().defaultTo('');
    t.integer('quantity').notNullable();
    t.integer('available').notNullable();
    t.integer('reserved').notNullable().defaultTo(0);
    t.integer('sold').notNullable().defaultTo(0);
    t.integer('discarded').notNullable().defaultTo(0);
    // Units are numbered 0..quantity-1; these sets say where each unit is. Reserved and sold units live in stock_allocations.
    t.specificType('free_units', 'int4multirange').notNullable();
    t.specificType('discarded_units', 'int4multirange').notNullable().defaultTo('{}');
    t.timestamp('produced_at', { useTz: true }).notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    // From this moment the lot sells at the product's end-of-day discount; null: never discounted.
    t.timestamp('discount_from', { useTz: true });
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check('quantity > 0', [], 'stock_lots_quantity_check');
    t.check('available >= 0 AND reserved >= 0 AND sold >= 0 AND discarded >= 0', [], 'stock_lots_counts_check');
    t.check('available + reserved + sold + discarded = quantity', [], 'stock_lots_arithmetic_check');
    t.check('expires_at > produced_at', [], 'stock_lots_expiry_check');
  });
  // The availability query walks each nearby location's fresh lots in name order and stops after one page;
  // INCLUDE lets it answer from the index alone.
  await knex.raw(`
    CREATE INDEX stock_lots_availability_idx ON stock_lots (location_id, product_sort_key, product_id)
    INCLUDE (available, expires_at, discount_from) WHERE available > 0`);
  // Reservation looks up the lots of a few products at one location.
  await knex.raw('CREATE INDEX stock_lots_reservation_idx ON stock_lots (location_id, product_id) WHERE available > 0');
  // The expiry sweep finds lots whose unsold units must be discarded.
  await knex.raw('CREATE INDEX stock_lots_expiry_idx ON stock_lots (expires_at) WHERE available > 0');

  await knex.raw(`
    CREATE FUNCTION stock_lots_copy_product_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT lower(name) INTO NEW.product_sort_key FROM products WHERE id = NEW.product_id;
      RETURN NEW;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER stock_lots_product_sort_key BEFORE INSERT OR UPDATE OF product_id ON stock_lots
    FOR EACH ROW EXECUTE FUNCTION stock_lots_copy_product_sort_key()`);
  // Renames are rare, so scanning the lots for the product's is acceptable.
  await knex.raw(`
    CREATE FUNCTION products_rename_stock_lots() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE stock_lots SET product_sort_key = lower(NEW.name) WHERE product_id = NEW.id AND product_sort_key IS DISTINCT FROM lower(NEW.name);
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER products_rename_stock_lots AFTER UPDATE OF name ON products
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION products_rename_stock_lots()`);

  // The `wanted` lowest-numbered units of a set of free units: a lot hands out its units in order.
  await knex.raw(`
    CREATE FUNCTION stock_lowest_units(free int4multirange, wanted integer) RETURNS int4multirange
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
      SELECT coalesce(range_agg(int4range(lower(r), least(upper(r), (lower(r) + wanted - before)::integer))), '{}'::int4multirange)
      FROM (
        SELECT r, coalesce(sum(upper(r) - lower(r)) OVER (ORDER BY lower(r) ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM unnest(free) AS r
      ) ranges
      WHERE before < wanted;
    END`);
  // Aborts a reservation whose plan no longer fits the lots (another order got there first); the caller re-plans.
  await knex.raw(`
    CREATE FUNCTION stock_plan_is_stale() RETURNS boolean LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the stock changed since the reservation was planned' USING ERRCODE = 'SR001';
    END $$`);

  // The claim: one row per order that holds or held stock. Retries of the same order meet here and read the answer.
  // A refusal is recorded only where a retry could answer differently; "out of stock" otherwise holds nothing.
  await knex.schema.createTable('stock_reservations', (t) => {
    t.uuid('order_id').primary();
    // Null for a release that arrived before any reservation (the tombstone that stops a late reservation).
    // No foreign key: an order for an unknown location is simply out of stock.
    t.uuid('location_id');
    t.timestamp('deliver_by', { useTz: true });
    t.text('status')
      .notNullable()
      .checkIn(['reserved', 'committed', 'released', 'out_of_stock'], 'stock_reservations_status_check');
    t.specificType('out_of_stock_product_ids', 'uuid[]').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // The concrete units an order holds in one lot, at the price they were reserved at.
  await knex.schema.createTable('stock_allocations', (t) => {
    t.bigIncrements('id').primary();
    t.uuid('order_id').notNullable().references('stock_reservations.order_id');
    t.bigInteger('lot_id').notNullable().references('stock_lots.id');
    t.uuid('product_id').notNullable();
    t.specificType('units', 'int4multirange').notNullable();
    t.integer('quantity').notNullable();
    t.integer('unit_price_cents').notNullable();
    t.text('state').notNullable().checkIn(['reserved', 'sold', 'released'], 'stock_allocations_state_check');
    t.check('quantity > 0', [], 'stock_allocations_quantity_check');
    t.check('unit_price_cents >= 0', [], 'stock_allocations_price_check');
    t.index(['order_id']);
    t.index(['lot_id']);
  });
  // The database itself refuses to put one unit in two live allocations.
  await knex.raw(`
    ALTER TABLE stock_allocations ADD CONSTRAINT stock_allocations_one_order_per_unit
    EXCLUDE USING gist (lot_id WITH =, units WITH &&) WHERE (state <> 'released')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('stock_allocations');
  await knex.schema.dropTableIfExists('stock_reservations');
  await knex.schema.dropTableIfExists('stock_lots');
  await knex.raw('DROP TRIGGER IF EXISTS products_rename_stock_lots ON products');
  await knex.raw('DROP FUNCTION IF EXISTS products_rename_stock_lots()');
  await knex.raw('DROP FUNCTION IF EXISTS stock_lots_copy_product_sort_key()');
  await knex.raw('DROP FUNCTION IF EXISTS stock_lowest_units(int4multirange, integer)');
  await knex.raw('DROP FUNCTION IF EXISTS stock_plan_is_stale()');
  await knex.raw('DROP INDEX IF EXISTS locations_delivery_area_idx');
  await knex.raw(
    'ALTER TABLE locations DROP CONSTRAINT IF EXISTS locations_lat_check, DROP CONSTRAINT IF EXISTS locations_lng_check, DROP CONSTRAINT IF EXISTS locations_radius_check',
  );
  await knex.raw('DROP FUNCTION IF EXISTS geo_delivery_area(double precision, double precision, double precision)');
  await knex.raw('DROP FUNCTION IF EXISTS geo_point(double precision, double precision)');
  await knex.raw(
    'DROP FUNCTION IF EXISTS geo_distance_m(double precision, double precision, double precision, double precision)',
  );
}

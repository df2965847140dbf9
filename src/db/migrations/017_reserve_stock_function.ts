// Reserving an order's stock in one round trip: stock_reserve() claims the order, locks the fresh lots of its products
// at the location in lot id order (the order every writer of lots keeps), and takes each line oldest lot first at the
// price in effect, all or nothing, with the lowest free unit numbers of each lot. Buyers of the same products take
// turns for the length of the call, inside the server, instead of planning apart and retrying a stale plan.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION stock_reserve(
      p_order uuid, p_location uuid, p_deliver_by timestamptz, p_fresh_at timestamptz, p_now timestamptz,
      p_products uuid[], p_quantities integer[], p_record_short boolean
    ) RETURNS TABLE (claimed boolean, short uuid[], product_id uuid, quantity integer, amount_cents bigint, left_units bigint)
    LANGUAGE plpgsql AS $$
    #variable_conflict use_column
    DECLARE
      v_short uuid[];
    BEGIN
      -- The claim first: a second call for the order waits here for the first to finish, then finds its claim (or
      -- the mark a release that came first left) and takes nothing.
      INSERT INTO stock_reservations (order_id, location_id, deliver_by, status, out_of_stock_product_ids)
      VALUES (p_order, p_location, p_deliver_by, 'reserved', '{}')
      ON CONFLICT (order_id) DO NOTHING;
      IF NOT FOUND THEN
        RETURN QUERY SELECT false, NULL::uuid[], NULL::uuid, NULL::integer, NULL::bigint, NULL::bigint;
        RETURN;
      END IF;

      PERFORM 1 FROM stock_lots s
      WHERE s.location_id = p_location AND s.product_id = ANY(p_products) AND s.available > 0
        AND s.expires_at > p_fresh_at
      ORDER BY s.id
      FOR NO KEY UPDATE;

      -- From here the lots are this call's: each statement below reads them as the last buyer left them.
      SELECT array_agg(w.product_id ORDER BY w.ord) INTO v_short
      FROM unnest(p_products, p_quantities) WITH ORDINALITY AS w(product_id, quantity, ord)
      WHERE w.quantity > coalesce((
        SELECT sum(s.available) FROM stock_lots s
        WHERE s.location_id = p_location AND s.product_id = w.product_id AND s.available > 0
          AND s.expires_at > p_fresh_at
      ), 0);
      IF v_short IS NOT NULL THEN
        -- Short needs no record unless the caller says a retry could see fewer fresh lots than this call did.
        IF p_record_short THEN
          UPDATE stock_reservations SET status = 'out_of_stock', out_of_stock_product_ids = v_short
          WHERE order_id = p_order;
        ELSE
          DELETE FROM stock_reservations WHERE order_id = p_order;
        END IF;
        RETURN QUERY SELECT true, v_short, NULL::uuid, NULL::integer, NULL::bigint, NULL::bigint;
        RETURN;
      END IF;

      RETURN QUERY
      WITH want AS (
        SELECT * FROM unnest(p_products, p_quantities) WITH ORDINALITY AS w(product_id, quantity, ord)
      ), lots AS (
        SELECT s.id, s.product_id, s.available, s.free_units, s.discount_from, p.price_cents, p.eod_discount_percent,
               sum(s.available) OVER (PARTITION BY s.product_id ORDER BY s.produced_at, s.expires_at, s.id)
                 - s.available AS before
        FROM stock_lots s JOIN products p ON p.id = s.product_id
        WHERE s.location_id = p_location AND s.product_id = ANY(p_products) AND s.available > 0
          AND s.expires_at > p_fresh_at
      ), taken AS (
        SELECT l.id, l.product_id, w.ord, l.before, least(l.available, w.quantity - l.before)::integer AS take,
               stock_lowest_units(l.free_units, least(l.available, w.quantity - l.before)::integer) AS units,
               -- The end-of-day price, rounded half up, as the catalogue shows it (src/domain/pricing.ts).
               CASE WHEN l.discount_from <= p_now THEN (l.price_cents * (100 - l.eod_discount_percent) + 50) / 100
                    ELSE l.price_cents END AS unit_price_cents
        FROM lots l JOIN want w ON w.product_id = l.product_id
        WHERE l.before < w.quantity
      ), updated AS (
        UPDATE stock_lots s
        SET available = s.available - t.take, reserved = s.reserved + t.take, free_units = s.free_units - t.units
        FROM taken t WHERE s.id = t.id
        RETURNING s.id
      ), allocations AS (
        INSERT INTO stock_allocations (order_id, lot_id, product_id, units, quantity, unit_price_cents, state)
        SELECT p_order, t.id, t.product_id, t.units, t.take, t.unit_price_cents, 'reserved'
        FROM taken t ORDER BY t.ord, t.before
        RETURNING lot_id
      )
      -- left_units: what stays fresh here after this order (the statement sees the lots as they were before it).
      SELECT true, NULL::uuid[], w.product_id, w.quantity::integer,
             (SELECT sum(t.take::bigint * t.unit_price_cents) FROM taken t WHERE t.product_id = w.product_id)::bigint,
             (SELECT sum(l.available) FROM lots l WHERE l.product_id = w.product_id)::bigint - w.quantity
      FROM want w ORDER BY w.ord;
    END $$`);
  // The planner in TypeScript and its stale-plan abort are gone with it.
  await knex.raw('DROP FUNCTION IF EXISTS stock_plan_is_stale()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION stock_plan_is_stale() RETURNS boolean LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the stock changed since the reservation was planned' USING ERRCODE = 'SR001';
    END $$`);
  await knex.raw(
    'DROP FUNCTION IF EXISTS stock_reserve(uuid, uuid, timestamptz, timestamptz, timestamptz, uuid[], integer[], boolean)',
  );
}

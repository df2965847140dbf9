// stock_reserve() again, with two changes.
//
// It takes only from the lots it locked. It locked the fresh lots that had units, then read the lots afresh: a lot
// refilled meanwhile (its units released by another order) or received meanwhile was read too, though unlocked, and
// two buyers could both take the same units of it; the counts then disagreed with the units. Now it locks every fresh
// lot of the products, sold out or not, in id order, and reads and takes from those alone. A release waits for it, or
// it for the release; a lot received meanwhile waits for the next buyer.
//
// And an order that cannot be filled is answered without writing anything. Under a rush for the last units most
// buyers find them gone; each was claimed (a row written, then deleted) and committed, a WAL flush per refusal. Now one
// read, in one snapshot, answers first: when the order has no claim and a product lacks fresh units, the answer is
// short, and nothing is claimed or locked. Only where a retry could not see fewer fresh lots than an earlier attempt
// (`p_record_short` false; otherwise the short answer is recorded as before). A claim committed before the read sends
// the call the claiming way, which answers from it; an attempt of the same order still in flight either found the
// units (it holds their lots until it commits, so nobody else takes them, and this read sees them too) or found them
// short as well.
import type { Knex } from 'knex';
import * as previous from './017_reserve_stock_function.js';

const SIGNATURE = 'uuid, uuid, timestamptz, timestamptz, timestamptz, uuid[], integer[], boolean';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION stock_reserve(
      p_order uuid, p_location uuid, p_deliver_by timestamptz, p_fresh_at timestamptz, p_now timestamptz,
      p_products uuid[], p_quantities integer[], p_record_short boolean
    ) RETURNS TABLE (claimed boolean, short uuid[], product_id uuid, quantity integer, amount_cents bigint, left_units bigint)
    LANGUAGE plpgsql AS $$
    #variable_conflict use_column
    DECLARE
      v_short uuid[];
      v_lots bigint[];
    BEGIN
      IF NOT p_record_short THEN
        SELECT array_agg(w.product_id ORDER BY w.ord) INTO v_short
        FROM unnest(p_products, p_quantities) WITH ORDINALITY AS w(product_id, quantity, ord)
        WHERE NOT EXISTS (SELECT 1 FROM stock_reservations r WHERE r.order_id = p_order)
          AND w.quantity > coalesce((
            SELECT sum(s.available) FROM stock_lots s
            WHERE s.location_id = p_location AND s.product_id = w.product_id AND s.available > 0
              AND s.expires_at > p_fresh_at
          ), 0);
        IF v_short IS NOT NULL THEN
          RETURN QUERY SELECT true, v_short, NULL::uuid, NULL::integer, NULL::bigint, NULL::bigint;
          RETURN;
        END IF;
      END IF;

      -- The claim: a second call for the order waits here for the first to finish, then finds its claim (or the mark
      -- a release that came first left) and takes nothing.
      INSERT INTO stock_reservations (order_id, location_id, deliver_by, status, out_of_stock_product_ids)
      VALUES (p_order, p_location, p_deliver_by, 'reserved', '{}')
      ON CONFLICT (order_id) DO NOTHING;
      IF NOT FOUND THEN
        RETURN QUERY SELECT false, NULL::uuid[], NULL::uuid, NULL::integer, NULL::bigint, NULL::bigint;
        RETURN;
      END IF;

      SELECT array_agg(l.id ORDER BY l.id) INTO v_lots FROM (
        SELECT s.id FROM stock_lots s
        WHERE s.location_id = p_location AND s.product_id = ANY(p_products) AND s.expires_at > p_fresh_at
        ORDER BY s.id
        FOR NO KEY UPDATE
      ) l;

      -- From here the locked lots are this call's: each statement below reads them as the last buyer left them.
      SELECT array_agg(w.product_id ORDER BY w.ord) INTO v_short
      FROM unnest(p_products, p_quantities) WITH ORDINALITY AS w(product_id, quantity, ord)
      WHERE w.quantity > coalesce((
        SELECT sum(s.available) FROM stock_lots s
        WHERE s.id = ANY(v_lots) AND s.product_id = w.product_id AND s.available > 0
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
        WHERE s.id = ANY(v_lots) AND s.available > 0
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
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION stock_reserve(${SIGNATURE})`);
  await previous.up(knex);
}

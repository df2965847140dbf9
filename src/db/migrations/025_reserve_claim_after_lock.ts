// stock_reserve() again: the claim comes after the lots are locked, and only when the order can be filled.
//
// Under a rush for the last units the buyers queue on the lot's lock, and each holds it in turn until it commits. A
// buyer that found the units gone had claimed the order already, so it deleted its claim while holding the lock and
// committed a write: a WAL flush per refusal, inside the queue every winner waits in. Now a buyer locks the lots (in id
// order, as every stock transaction does) and counts what they hold in the same statement; one that finds too few
// writes nothing unless a retry could see fewer fresh lots than it did (`p_record_short`), so its commit flushes
// nothing. One that can be filled claims the order and takes its units in one statement.
//
// A second call for the same order still takes nothing. Every statement after the locks are held sees the claim of
// any attempt of the order that held one of those lots (it has committed by then), and of a release that came first.
// An attempt holding none of them either claims first, so this call's claim waits for it and finds it, or finds the
// order short as well. And nothing waits for a claim while holding lots that the claim's holder could need: a claim
// waits only for another attempt's claim (whose holder has every lock it will take) or for a release's fresh mark
// (which locks no lots); a release or commit that found a claim already there is seen by the question asked first,
// or holds lots this call never locked.
import type { Knex } from 'knex';
import * as previous from './023_reserve_locked_lots.js';
import * as generic from './024_reserve_generic_plans.js';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION stock_reserve(
      p_order uuid, p_location uuid, p_deliver_by timestamptz, p_fresh_at timestamptz, p_now timestamptz,
      p_products uuid[], p_quantities integer[], p_record_short boolean
    ) RETURNS TABLE (claimed boolean, short uuid[], product_id uuid, quantity integer, amount_cents bigint, left_units bigint)
    LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
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

      -- Every fresh lot of the products, sold out or not (a release may refill one), locked in id order; the rows come
      -- back as the last holder of each lock left them, so the count is of what the lots hold now.
      WITH locked AS MATERIALIZED (
        SELECT s.id, s.product_id, s.available FROM stock_lots s
        WHERE s.location_id = p_location AND s.product_id = ANY(p_products) AND s.expires_at > p_fresh_at
        ORDER BY s.id
        FOR NO KEY UPDATE
      )
      SELECT (SELECT array_agg(l.id ORDER BY l.id) FROM locked l),
             (SELECT array_agg(w.product_id ORDER BY w.ord)
              FROM unnest(p_products, p_quantities) WITH ORDINALITY AS w(product_id, quantity, ord)
              WHERE w.quantity > coalesce((
                SELECT sum(l.available) FROM locked l WHERE l.product_id = w.product_id AND l.available > 0
              ), 0))
      INTO v_lots, v_short;

      IF v_short IS NOT NULL THEN
        -- Claimed before (a retry, or a release that came first): nothing is taken, and the claim answers.
        IF EXISTS (SELECT 1 FROM stock_reservations r WHERE r.order_id = p_order) THEN
          RETURN QUERY SELECT false, NULL::uuid[], NULL::uuid, NULL::integer, NULL::bigint, NULL::bigint;
          RETURN;
        END IF;
        -- Short needs no record unless the caller says a retry could see fewer fresh lots than this call did.
        IF p_record_short THEN
          INSERT INTO stock_reservations (order_id, location_id, deliver_by, status, out_of_stock_product_ids)
          VALUES (p_order, p_location, p_deliver_by, 'out_of_stock', v_short)
          ON CONFLICT (order_id) DO NOTHING;
          IF NOT FOUND THEN
            RETURN QUERY SELECT false, NULL::uuid[], NULL::uuid, NULL::integer, NULL::bigint, NULL::bigint;
            RETURN;
          END IF;
        END IF;
        RETURN QUERY SELECT true, v_short, NULL::uuid, NULL::integer, NULL::bigint, NULL::bigint;
        RETURN;
      END IF;

      -- The claim and the taking, in one statement: unless the order was claimed before (this statement's snapshot, taken
      -- with the locks held, sees the claim of any attempt that held them), claim it and take from the locked lots. Another
      -- attempt of the order claiming at the same moment makes this one wait, then find its claim and take nothing.
      RETURN QUERY
      WITH claim AS (
        INSERT INTO stock_reservations (order_id, location_id, deliver_by, status, out_of_stock_product_ids)
        SELECT p_order, p_location, p_deliver_by, 'reserved', '{}'
        WHERE NOT EXISTS (SELECT 1 FROM stock_reservations r WHERE r.order_id = p_order)
        ON CONFLICT (order_id) DO NOTHING
        RETURNING order_id
      ), want AS (
        SELECT * FROM unnest(p_products, p_quantities) WITH ORDINALITY AS w(product_id, quantity, ord)
        WHERE EXISTS (SELECT 1 FROM claim)
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
      -- left_units: what stays fresh here after this order (the statement sees the lots as they were before it). Not
      -- claimed: one row saying so.
      SELECT r.claimed, r.short, r.product_id, r.quantity, r.amount_cents, r.left_units FROM (
        SELECT w.ord, true AS claimed, NULL::uuid[] AS short, w.product_id, w.quantity::integer AS quantity,
               (SELECT sum(t.take::bigint * t.unit_price_cents) FROM taken t WHERE t.product_id = w.product_id)::bigint
                 AS amount_cents,
               (SELECT sum(l.available) FROM lots l WHERE l.product_id = w.product_id)::bigint - w.quantity AS left_units
        FROM want w
        UNION ALL
        SELECT 0, false, NULL::uuid[], NULL::uuid, NULL::integer, NULL::bigint, NULL::bigint
        WHERE NOT EXISTS (SELECT 1 FROM claim)
      ) r ORDER BY r.ord;
    END $$`);
}

export async function down(knex: Knex): Promise<void> {
  await previous.up(knex);
  await generic.up(knex);
}

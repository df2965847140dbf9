// Checks the inventory's invariants on one consistent snapshot: lot arithmetic, where every unit is, and that no unit is in two orders.
import type { Knex } from 'knex';

/** At most this many violations are reported per rule; one is enough to fail, the rest are noise. */
const PER_RULE = 20;

// unit_count(x): how many unit numbers a multirange holds.
const unitCount = (column: string) => `(SELECT coalesce(sum(upper(r) - lower(r)), 0) FROM unnest(${column}) AS r)`;

/**
 * Each rule is a query returning one `violation` text per broken row. Lots nobody has touched (all units free,
 * nothing else) are checked cheaply; the unit-by-unit partition is checked only for the others.
 */
const RULES: { name: string; sql: string }[] = [
  {
    name: 'lot arithmetic',
    sql: `SELECT format('lot %s: available %s + reserved %s + sold %s + discarded %s <> produced %s', id, available, reserved, sold, discarded, quantity) AS violation
          FROM stock_lots
          WHERE available + reserved + sold + discarded <> quantity OR least(available, reserved, sold, discarded) < 0`,
  },
  {
    name: 'free and discarded units match their counts',
    sql: `SELECT format('lot %s: %s free units for available %s, %s discarded units for discarded %s', id, ${unitCount('free_units')}, available, ${unitCount('discarded_units')}, discarded) AS violation
          FROM stock_lots
          WHERE free_units <> int4multirange(int4range(0, quantity))
            AND (${unitCount('free_units')} <> available OR ${unitCount('discarded_units')} <> discarded)`,
  },
  {
    name: 'untouched lots are whole',
    sql: `SELECT format('lot %s: all %s units are free but the counts say available %s', id, quantity, available) AS violation
          FROM stock_lots
          WHERE free_units = int4multirange(int4range(0, quantity)) AND (available <> quantity OR discarded_units <> '{}')`,
  },
  {
    name: 'reserved and sold counts match the orders holding units',
    sql: `WITH held AS (
            SELECT lot_id,
                   coalesce(sum(quantity) FILTER (WHERE state = 'reserved'), 0) AS reserved,
                   coalesce(sum(quantity) FILTER (WHERE state = 'sold'), 0) AS sold
            FROM stock_allocations GROUP BY lot_id
          )
          SELECT format('lot %s: reserved %s and sold %s, but orders hold %s reserved and %s sold units', l.id, l.reserved, l.sold, coalesce(h.reserved, 0), coalesce(h.sold, 0)) AS violation
          FROM stock_lots l LEFT JOIN held h ON h.lot_id = l.id
          WHERE (l.reserved > 0 OR l.sold > 0 OR h.lot_id IS NOT NULL)
            AND (l.reserved <> coalesce(h.reserved, 0) OR l.sold <> coalesce(h.sold, 0))`,
  },
  {
    name: 'every unit is in exactly one place',
    sql: `WITH touched AS (
            SELECT id, quantity, free_units, discarded_units FROM stock_lots WHERE free_units <> int4multirange(int4range(0, quantity))
          ), pieces AS (
            SELECT id AS lot_id, free_units AS units FROM touched
            UNION ALL SELECT id, discarded_units FROM touched
            UNION ALL SELECT a.lot_id, a.units FROM stock_allocations a JOIN touched t ON t.id = a.lot_id WHERE a.state <> 'released'
          ), per_lot AS (
            SELECT lot_id, range_agg(r) AS covered, sum(upper(r) - lower(r)) AS counted FROM pieces, unnest(units) AS r GROUP BY lot_id
          )
          SELECT format('lot %s: units %s over %s pieces, expected exactly [0,%s) once each', t.id, coalesce(p.covered::text, '{}'), coalesce(p.counted, 0), t.quantity) AS violation
          FROM touched t LEFT JOIN per_lot p ON p.lot_id = t.id
          WHERE p.covered IS DISTINCT FROM int4multirange(int4range(0, t.quantity)) OR p.counted IS DISTINCT FROM t.quantity`,
  },
  {
    name: 'no unit in two orders',
    sql: `SELECT format('lot %s: units %s are held by order %s and order %s', a.lot_id, (a.units * b.units)::text, a.order_id, b.order_id) AS violation
          FROM stock_allocations a JOIN stock_allocations b ON a.lot_id = b.lot_id AND a.id < b.id AND a.units && b.units
          WHERE a.state <> 'released' AND b.state <> 'released'`,
  },
  {
    name: 'allocations are well formed',
    sql: `SELECT format('allocation %s (order %s, lot %s): %s units %s for quantity %s, product %s', a.id, a.order_id, a.lot_id, ${unitCount('a.units')}, a.units::text, a.quantity, a.product_id) AS violation
          FROM stock_allocations a JOIN stock_lots l ON l.id = a.lot_id
          WHERE ${unitCount('a.units')} <> a.quantity OR NOT (a.units <@ int4multirange(int4range(0, l.quantity))) OR a.product_id <> l.product_id`,
  },
  {
    name: 'allocations agree with their reservation',
    sql: `SELECT format('order %s is %s but holds a %s allocation in lot %s', r.order_id, r.status, a.state, a.lot_id) AS violation
          FROM stock_reservations r JOIN stock_allocations a ON a.order_id = r.order_id
          WHERE (r.status = 'reserved' AND a.state = 'sold')
             OR (r.status = 'committed' AND a.state = 'reserved')
             OR (r.status IN ('released', 'out_of_stock') AND a.state <> 'released')`,
  },
  {
    name: 'lots sort under their product name',
    sql: `SELECT format('lot %s: sort key %L, the product is called %L', s.id, s.product_sort_key, p.name) AS violation
          FROM stock_lots s JOIN products p ON p.id = s.product_id
          WHERE s.product_sort_key <> lower(p.name)`,
  },
];

/** Every violated invariant, one description each; empty when the inventory is consistent. */
export async function checkInventoryInvariants(db: Knex): Promise<string[]> {
  // One snapshot for all rules, so work committing meanwhile cannot look like a violation.
  return db.transaction(
    async (trx) => {
      const violations: string[] = [];
      for (const rule of RULES) {
        const { rows } = await trx.raw<{ rows: { violation: string }[] }>(`${rule.sql} LIMIT ${PER_RULE}`);
        violations.push(...rows.map((r) => `${rule.name}: ${r.violation}`));
      }
      return violations;
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

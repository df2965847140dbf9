// Delivery slots: the one writer of slots, slot_holds and slot_templates. A slot's row lock serialises the holds on
// it, so reserved never passes capacity; every change of a slot's capacity or status is announced on its location.
import type { Knex } from 'knex';
import type { SlotTemplate } from '../../domain/slots.js';
import type { SlotStatus } from '../../domain/vocabulary.js';
import { streams } from '../../events/log.js';
import { atomic } from '../knex.js';
import { appendEvent } from './events.js';

export interface SlotView {
  id: string;
  locationId: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  reserved: number;
  remaining: number;
  cutoffAt: string;
  status: SlotStatus;
}

export type ReserveSlotResult =
  { status: 'reserved'; startsAt: string; cutoffAt: string } | { status: 'slot_full' | 'slot_closed' };

/** A slot under its row lock, as a change to it is decided. */
export interface LockedSlot {
  status: SlotStatus;
  reserved: number;
  startsAt: Date;
}

interface SlotRow {
  id: string;
  location_id: string;
  starts_at: Date;
  ends_at: Date;
  cutoff_at: Date;
  capacity: number;
  reserved: number;
  status: SlotStatus;
}

const toSlot = (r: SlotRow): SlotView => ({
  id: r.id,
  locationId: r.location_id,
  startsAt: r.starts_at.toISOString(),
  endsAt: r.ends_at.toISOString(),
  capacity: r.capacity,
  reserved: r.reserved,
  remaining: r.capacity - r.reserved,
  cutoffAt: r.cutoff_at.toISOString(),
  status: r.status,
});

/** A slot as its events carry it: every public field, so a live view can add a slot it has not seen yet. */
const slotPayload = (slot: SlotRow, reserved: number) => ({
  slotId: slot.id,
  startsAt: slot.starts_at.toISOString(),
  endsAt: slot.ends_at.toISOString(),
  cutoffAt: slot.cutoff_at.toISOString(),
  capacity: slot.capacity,
  reserved,
  remaining: slot.capacity - reserved,
  status: slot.status,
});

/** Tells the live views (and webhooks) a slot's capacity or, with `statusChanged`, its status changed. */
async function announceSlot(
  trx: Knex.Transaction,
  slot: SlotRow,
  reserved: number,
  statusChanged = false,
): Promise<void> {
  await appendEvent(trx, streams.location(slot.location_id), 'slot.capacity', {
    ...slotPayload(slot, reserved),
    ...(statusChanged ? { statusChanged } : {}),
  });
}

export function createSlotRepository(db: Knex) {
  // FOR NO KEY UPDATE, not FOR UPDATE: an order or hold being written for the slot takes FOR KEY SHARE on it (their
  // foreign keys), and a capacity change must not make those wait, nor wait for them. No slot's id ever changes.
  const lock = (trx: Knex.Transaction, slotId: string) =>
    trx('slots').where({ id: slotId }).forNoKeyUpdate().first<SlotRow | undefined>();
  /** Moves an open or closed slot to `status` and announces it; a slot already there, or gone, changes nothing. */
  const moveTo = async (trx: Knex.Transaction, slot: SlotRow, status: SlotStatus) => {
    await trx('slots').where({ id: slot.id }).update({ status });
    await announceSlot(trx, { ...slot, status }, slot.reserved, true);
  };

  return {
    async find(
      slotId: string,
    ): Promise<{ id: string; locationId: string; startsAt: string; endsAt: string } | undefined> {
      const row = await db('slots')
        .where({ id: slotId })
        .first<{ id: string; location_id: string; starts_at: Date; ends_at: Date } | undefined>(
          'id',
          'location_id',
          'starts_at',
          'ends_at',
        );
      return (
        row && {
          id: row.id,
          locationId: row.location_id,
          startsAt: row.starts_at.toISOString(),
          endsAt: row.ends_at.toISOString(),
        }
      );
    },

    /** The location's first open slot whose cutoff is after `at`, if any. */
    async firstOpen(locationId: string, at: Date): Promise<string | undefined> {
      const slot = await db('slots')
        .where({ location_id: locationId, status: 'open' })
        .andWhere('cutoff_at', '>', at)
        .orderBy('starts_at')
        .first<{ id: string } | undefined>('id');
      return slot?.id;
    },

    /** The location's slots that overlap [from, to), by start. */
    async listBetween(locationId: string, from: Date, to: Date): Promise<SlotView[]> {
      const rows = await db('slots')
        .where('location_id', locationId)
        .andWhere('ends_at', '>', from)
        .andWhere('starts_at', '<', to)
        .orderBy('starts_at')
        .limit(500)
        .select<SlotRow[]>();
      return rows.map(toSlot);
    },

    /** The location's slots that have not ended yet, by start, as the live view shows them first. */
    async upcoming(locationId: string): Promise<SlotView[]> {
      const rows = await db('slots')
        .where({ location_id: locationId })
        .andWhere('ends_at', '>', db.fn.now())
        .orderBy('starts_at')
        .limit(100)
        .select<SlotRow[]>('id', 'location_id', 'starts_at', 'ends_at', 'cutoff_at', 'capacity', 'reserved', 'status');
      return rows.map(toSlot);
    },

    /** The slot's current cutoff and end, which the owner may have moved. */
    async times(slotId: string): Promise<{ cutoffAt: string; endsAt: string; status: SlotStatus } | null> {
      const row = await db('slots')
        .where({ id: slotId })
        .first<{ cutoff_at: Date; ends_at: Date; status: SlotStatus } | undefined>('cutoff_at', 'ends_at', 'status');
      return row
        ? { cutoffAt: row.cutoff_at.toISOString(), endsAt: row.ends_at.toISOString(), status: row.status }
        : null;
    },

    /**
     * Changes one slot of the location under its row lock: `decide` sees the slot as locked and returns the change,
     * or throws to refuse it. Undefined when the location has no such slot.
     */
    async adjust(
      locationId: string,
      slotId: string,
      decide: (slot: LockedSlot) => { capacity?: number; cutoffAt?: Date },
    ): Promise<SlotView | undefined> {
      return atomic(db, async (trx) => {
        const slot = await trx('slots')
          .where({ id: slotId, location_id: locationId })
          .forNoKeyUpdate()
          .first<SlotRow | undefined>();
        if (!slot) return undefined;
        const { capacity, cutoffAt } = decide({
          status: slot.status,
          reserved: slot.reserved,
          startsAt: slot.starts_at,
        });
        const [row] = await trx('slots')
          .where({ id: slotId })
          .update({
            ...(capacity === undefined ? {} : { capacity }),
            ...(cutoffAt === undefined ? {} : { cutoff_at: cutoffAt }),
          })
          .returning<SlotRow[]>('*');
        await announceSlot(trx, row!, row!.reserved);
        return toSlot(row!);
      });
    },

    /** Holds one unit of the slot's capacity for the order: atomic, never over capacity, never after cutoff, once per order. */
    async reserveHold(orderId: string, slotId: string): Promise<ReserveSlotResult> {
      return atomic(db, async (trx) => {
        // The row lock serialises holds on one slot, so reserved can never pass capacity.
        const slot = await lock(trx, slotId);
        if (!slot) return { status: 'slot_closed' };
        const held = await trx('slot_holds').where({ order_id: orderId }).first('slot_id');
        if (held)
          return { status: 'reserved', startsAt: slot.starts_at.toISOString(), cutoffAt: slot.cutoff_at.toISOString() };
        const now = new Date();
        if (slot.status !== 'open' || slot.cutoff_at <= now) return { status: 'slot_closed' };
        if (slot.reserved >= slot.capacity) return { status: 'slot_full' };
        await trx('slot_holds').insert({ order_id: orderId, slot_id: slot.id });
        await trx('slots')
          .where({ id: slot.id })
          .update({ reserved: slot.reserved + 1 });
        await announceSlot(trx, slot, slot.reserved + 1);
        return { status: 'reserved', startsAt: slot.starts_at.toISOString(), cutoffAt: slot.cutoff_at.toISOString() };
      });
    },

    /** Gives an order's slot capacity back; a hold that is gone changes nothing. */
    async releaseHold(orderId: string): Promise<void> {
      await atomic(db, async (trx) => {
        const hold = await trx('slot_holds')
          .where({ order_id: orderId })
          .first<{ slot_id: string } | undefined>('slot_id');
        if (!hold) return;
        const slot = (await lock(trx, hold.slot_id))!;
        await trx('slot_holds').where({ order_id: orderId }).delete();
        await trx('slots')
          .where({ id: slot.id })
          .update({ reserved: slot.reserved - 1 });
        await announceSlot(trx, slot, slot.reserved - 1);
      });
    },

    /** Every location's weekly templates, with the time zone they are planned in. */
    async templatesByLocation(): Promise<Map<string, { timezone: string; templates: SlotTemplate[] }>> {
      const rows = await db('slot_templates as t').join('locations as l', 'l.id', 't.location_id').select<
        {
          location_id: string;
          timezone: string;
          weekday: number;
          start: string;
          end: string;
          capacity: number;
          cutoff_minutes: number;
        }[]
      >('t.location_id', 'l.timezone', 't.weekday', 't.start', 't.end', 't.capacity', 't.cutoff_minutes');
      const byLocation = new Map<string, { timezone: string; templates: SlotTemplate[] }>();
      for (const r of rows) {
        const entry = byLocation.get(r.location_id) ?? { timezone: r.timezone, templates: [] };
        entry.templates.push({
          weekday: r.weekday,
          start: r.start,
          end: r.end,
          capacity: r.capacity,
          cutoffMinutes: r.cutoff_minutes,
        });
        byLocation.set(r.location_id, entry);
      }
      return byLocation;
    },

    /** The location's weekly plan, by weekday and start. */
    async templatesOf(locationId: string): Promise<SlotTemplate[]> {
      const rows = await db('slot_templates')
        .where({ location_id: locationId })
        .orderBy([{ column: 'weekday' }, { column: 'start' }, { column: 'end' }])
        .select<{ weekday: number; start: string; end: string; capacity: number; cutoff_minutes: number }[]>(
          'weekday',
          'start',
          'end',
          'capacity',
          'cutoff_minutes',
        );
      return rows.map((r) => ({
        weekday: r.weekday,
        start: r.start,
        end: r.end,
        capacity: r.capacity,
        cutoffMinutes: r.cutoff_minutes,
      }));
    },

    /** Replaces the location's weekly plan in one transaction. */
    async replaceTemplates(locationId: string, templates: readonly SlotTemplate[]): Promise<void> {
      await atomic(db, async (trx) => {
        await trx('slot_templates').where({ location_id: locationId }).delete();
        if (templates.length > 0) {
          await trx('slot_templates').insert(
            templates.map((t) => ({
              location_id: locationId,
              weekday: t.weekday,
              start: t.start,
              end: t.end,
              capacity: t.capacity,
              cutoff_minutes: t.cutoffMinutes,
            })),
          );
        }
      });
    },

    /**
     * Creates planned slots and announces each new one on its location, in one transaction; a slot that already
     * exists at the same start is left as it is. Returns the new ones.
     */
    async createMissing(
      locationId: string,
      planned: readonly { startsAt: Date; endsAt: Date; cutoffAt: Date; capacity: number }[],
    ): Promise<{ slotId: string; cutoffAt: string; endsAt: string }[]> {
      const inserted = await atomic(db, async (trx) => {
        const rows = await trx('slots')
          .insert(
            planned.map((p) => ({
              location_id: locationId,
              starts_at: p.startsAt,
              ends_at: p.endsAt,
              cutoff_at: p.cutoffAt,
              capacity: p.capacity,
            })),
          )
          .onConflict(['location_id', 'starts_at'])
          .ignore()
          .returning<SlotRow[]>('*');
        for (const row of rows)
          await appendEvent(trx, streams.location(locationId), 'slot.opened', slotPayload(row, row.reserved));
        return rows;
      });
      return inserted.map((r) => ({
        slotId: r.id,
        cutoffAt: r.cutoff_at.toISOString(),
        endsAt: r.ends_at.toISOString(),
      }));
    },

    /** Closes the slot to new orders and names the orders still waiting for payment in it. */
    async close(slotId: string): Promise<{ awaitingPaymentOrderIds: string[] }> {
      return atomic(db, async (trx) => {
        const slot = await lock(trx, slotId);
        if (!slot) return { awaitingPaymentOrderIds: [] };
        if (slot.status === 'open') await moveTo(trx, slot, 'closed');
        const waiting = await trx('orders')
          .where({ slot_id: slotId, status: 'awaiting_payment' })
          .select<{ id: string }[]>('id');
        return { awaitingPaymentOrderIds: waiting.map((o) => o.id) };
      });
    },

    async finish(slotId: string): Promise<void> {
      await atomic(db, async (trx) => {
        const slot = await lock(trx, slotId);
        if (!slot || slot.status === 'finished') return;
        await moveTo(trx, slot, 'finished');
      });
    },
  };
}

export type SlotRepository = ReturnType<typeof createSlotRepository>;

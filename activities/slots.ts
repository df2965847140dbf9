// Slot capacity holds: atomic, never over capacity, never after cutoff, idempotent per order.
import type { Knex } from 'knex';
import { planSlots, type SlotTemplate } from '../src/domain/slots.js';
import { appendEvent, streams } from '../src/events/log.js';

export type ReserveSlotResult =
  | { status: 'reserved'; startsAt: string; cutoffAt: string }
  | { status: 'slot_full' | 'slot_closed' };

interface SlotRow {
  id: string;
  location_id: string;
  starts_at: Date;
  cutoff_at: Date;
  capacity: number;
  reserved: number;
  status: string;
}

async function announceSlot(trx: Knex.Transaction, slot: SlotRow, reserved: number): Promise<void> {
  await appendEvent(trx, streams.location(slot.location_id), 'slot.capacity', {
    slotId: slot.id,
    capacity: slot.capacity,
    reserved,
    remaining: slot.capacity - reserved,
    status: slot.status,
  });
}

/** Gives an order's slot capacity back inside `trx`; a hold that is gone changes nothing. */
export async function releaseSlotHold(trx: Knex.Transaction, orderId: string): Promise<void> {
  const hold = await trx('slot_holds').where({ order_id: orderId }).first<{ slot_id: string } | undefined>('slot_id');
  if (!hold) return;
  const slot = await trx('slots').where({ id: hold.slot_id }).forUpdate().first<SlotRow>();
  await trx('slot_holds').where({ order_id: orderId }).delete();
  await trx('slots').where({ id: slot.id }).update({ reserved: slot.reserved - 1 });
  await announceSlot(trx, slot, slot.reserved - 1);
}

export function createSlotActivities(db: Knex) {
  return {
    async reserveSlot(input: { orderId: string; slotId: string }): Promise<ReserveSlotResult> {
      return db.transaction(async (trx) => {
        // The row lock serialises holds on one slot, so reserved can never pass capacity.
        const slot = await trx('slots').where({ id: input.slotId }).forUpdate().first<SlotRow | undefined>();
        if (!slot) return { status: 'slot_closed' };
        const held = await trx('slot_holds').where({ order_id: input.orderId }).first('slot_id');
        if (held) return { status: 'reserved', startsAt: slot.starts_at.toISOString(), cutoffAt: slot.cutoff_at.toISOString() };
        const now = new Date();
        if (slot.status !== 'open' || slot.cutoff_at <= now) return { status: 'slot_closed' };
        if (slot.reserved >= slot.capacity) return { status: 'slot_full' };
        await trx('slot_holds').insert({ order_id: input.orderId, slot_id: slot.id });
        await trx('slots').where({ id: slot.id }).update({ reserved: slot.reserved + 1 });
        await announceSlot(trx, slot, slot.reserved + 1);
        return { status: 'reserved', startsAt: slot.starts_at.toISOString(), cutoffAt: slot.cutoff_at.toISOString() };
      });
    },

    /** Gives the order's capacity back; releasing a hold that is gone changes nothing. */
    async releaseSlot(input: { orderId: string }): Promise<void> {
      await db.transaction((trx) => releaseSlotHold(trx, input.orderId));
    },

    /** Creates the slots of the coming days from every location's templates; existing slots are left as they are. */
    async createSlotsFromTemplates(input: { daysAhead: number }): Promise<{ slotId: string; cutoffAt: string; endsAt: string }[]> {
      const now = new Date();
      const rows = await db('slot_templates as t')
        .join('locations as l', 'l.id', 't.location_id')
        .select<{ location_id: string; timezone: string; weekday: number; start: string; end: string; capacity: number; cutoff_minutes: number }[]>(
          't.location_id', 'l.timezone', 't.weekday', 't.start', 't.end', 't.capacity', 't.cutoff_minutes',
        );
      const byLocation = new Map<string, { timezone: string; templates: SlotTemplate[] }>();
      for (const r of rows) {
        const entry = byLocation.get(r.location_id) ?? { timezone: r.timezone, templates: [] };
        entry.templates.push({ weekday: r.weekday, start: r.start, end: r.end, capacity: r.capacity, cutoffMinutes: r.cutoff_minutes });
        byLocation.set(r.location_id, entry);
      }
      const created: { slotId: string; cutoffAt: string; endsAt: string }[] = [];
      for (const [locationId, { timezone, templates }] of byLocation) {
        const planned = planSlots(templates, timezone, now, input.daysAhead);
        if (planned.length === 0) continue;
        const inserted = await db('slots')
          .insert(planned.map((p) => ({ location_id: locationId, starts_at: p.startsAt, ends_at: p.endsAt, cutoff_at: p.cutoffAt, capacity: p.capacity })))
          .onConflict(['location_id', 'starts_at'])
          .ignore()
          .returning<{ id: string; cutoff_at: Date; ends_at: Date }[]>(['id', 'cutoff_at', 'ends_at']);
        created.push(...inserted.map((r) => ({ slotId: r.id, cutoffAt: r.cutoff_at.toISOString(), endsAt: r.ends_at.toISOString() })));
      }
      return created;
    },

    /** The slot's current cutoff and end, which the owner may have moved. */
    async slotTimes(slotId: string): Promise<{ cutoffAt: string; endsAt: string; status: string } | null> {
      const row = await db('slots').where({ id: slotId }).first<{ cutoff_at: Date; ends_at: Date; status: string } | undefined>('cutoff_at', 'ends_at', 'status');
      return row ? { cutoffAt: row.cutoff_at.toISOString(), endsAt: row.ends_at.toISOString(), status: row.status } : null;
    },

    /** Closes the slot to new orders and names the orders still waiting for payment in it. */
    async closeSlot(slotId: string): Promise<{ awaitingPaymentOrderIds: string[] }> {
      return db.transaction(async (trx) => {
        const slot = await trx('slots').where({ id: slotId }).forUpdate().first<SlotRow | undefined>();
        if (!slot) return { awaitingPaymentOrderIds: [] };
        if (slot.status === 'open') {
          await trx('slots').where({ id: slotId }).update({ status: 'closed' });
          await announceSlot(trx, { ...slot, status: 'closed' }, slot.reserved);
        }
        const waiting = await trx('orders').where({ slot_id: slotId, status: 'awaiting_payment' }).select<{ id: string }[]>('id');
        return { awaitingPaymentOrderIds: waiting.map((o) => o.id) };
      });
    },

    async finishSlot(slotId: string): Promise<void> {
      await db.transaction(async (trx) => {
        const slot = await trx('slots').where({ id: slotId }).forUpdate().first<SlotRow | undefined>();
        if (!slot || slot.status === 'finished') return;
        await trx('slots').where({ id: slotId }).update({ status: 'finished' });
        await announceSlot(trx, { ...slot, status: 'finished' }, slot.reserved);
      });
    },
  };
}

// The slots of the chosen shop on the customer page, live: remaining capacity as others order, a slot closing at its
// cutoff, a slot the shop adds appearing without a reload; the same stream tells of stock changes.
import type { Fulfilment, SlotStatus } from '../src/domain/vocabulary.js';
import { api, clock, follow, h, slotLabel } from './lib.js';

export interface Slot {
  id: string;
  startsAt: string;
  endsAt: string;
  cutoffAt: string;
  capacity: number;
  reserved: number;
  remaining: number;
  status: SlotStatus;
}

/** A slot event: a change to a slot's capacity or status, with its times when the slot is new. */
interface SlotEvent {
  slotId?: string;
  id?: string;
  startsAt?: string;
  endsAt?: string;
  cutoffAt?: string;
  capacity: number;
  reserved: number;
  remaining: number;
  status: SlotStatus;
}

/** How many slots the list shows, soonest first. */
const SHOWN_SLOTS = 12;

export function slotOpen(slot: Slot): boolean {
  return slot.status === 'open' && slot.remaining > 0 && Date.parse(slot.cutoffAt) > Date.now();
}

/**
 * Keeps `slots` current from the location's public stream and calls `changed` after each change. `stock` is called
 * when the location's stock may have changed: units received, discounted or discarded (a stock event), and an order
 * taking or giving back units, which shows as a slot's reserved count moving. A slot event for a slot the page has
 * not seen adds it; one without the slot's times reads the location's slot list again.
 */
export function followSlots(
  locationId: string,
  slots: Map<string, Slot>,
  on: { changed(): void; stock(productId: string | undefined): void },
): () => void {
  let reading: Promise<void> | undefined;
  const readAgain = () =>
    (reading ??= api<{ slots: Slot[] }>('GET', `/v1/locations/${locationId}/slots`)
      .then(({ slots: listed }) => {
        for (const slot of listed) slots.set(slot.id, { ...slots.get(slot.id), ...slot });
        on.changed();
      })
      .catch(() => {
        // The next unknown slot reads the list again.
      })
      .finally(() => {
        reading = undefined;
      }));

  const apply = (data: unknown) => {
    const change = data as SlotEvent;
    const id = change.slotId ?? change.id;
    if (!id) return;
    const known = slots.get(id);
    const fields = {
      capacity: change.capacity,
      reserved: change.reserved,
      remaining: change.remaining,
      status: change.status,
    };
    if (known) {
      const reservedMoved = known.reserved !== change.reserved;
      Object.assign(known, fields, times(change));
      if (reservedMoved) on.stock(undefined);
    } else if (change.startsAt && change.endsAt && change.cutoffAt)
      slots.set(id, { id, startsAt: change.startsAt, endsAt: change.endsAt, cutoffAt: change.cutoffAt, ...fields });
    else return void readAgain();
    on.changed();
  };

  return follow(`/v1/locations/${locationId}/slots/events`, {
    snapshot(data) {
      slots.clear();
      for (const slot of (data as { slots: Slot[] }).slots) slots.set(slot.id, slot);
      on.changed();
    },
    slot: apply,
    stock: (data) => on.stock((data as { productId?: string }).productId),
  });
}

/** A slot event carries the slot whole: a cutoff the shop moved comes with it. */
function times(change: SlotEvent): Partial<Slot> {
  const moved: Partial<Slot> = {};
  if (change.startsAt) moved.startsAt = change.startsAt;
  if (change.endsAt) moved.endsAt = change.endsAt;
  if (change.cutoffAt) moved.cutoffAt = change.cutoffAt;
  return moved;
}

/** The slot list, soonest first, with remaining capacity; a delivery slot, or for collection the window to collect in. */
export function slotsSection(
  section: HTMLElement,
  all: Map<string, Slot>,
  chosenId: string | null,
  fulfilment: Fulfilment,
  choose: (slotId: string) => void,
): void {
  section.hidden = false;
  const slots = [...all.values()]
    .filter((s) => Date.parse(s.endsAt) > Date.now())
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  const collection = fulfilment === 'collection';
  section.replaceChildren(
    h('h2', {}, collection ? 'Collection window' : 'Delivery slot'),
    slots.length === 0
      ? h('p', { class: 'empty' }, collection ? 'No collection windows.' : 'No delivery slots.')
      : h(
          'ul',
          { class: 'list' },
          ...slots.slice(0, SHOWN_SLOTS).map((slot) => {
            const open = slotOpen(slot);
            const label =
              slot.status !== 'open' || Date.parse(slot.cutoffAt) <= Date.now()
                ? 'Closed'
                : slot.remaining <= 0
                  ? 'Full'
                  : `${slot.remaining} left`;
            const tone = !open ? 'none' : slot.remaining <= 2 ? 'low' : '';
            return h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'choice',
                  'data-slot-id': slot.id,
                  'aria-pressed': String(slot.id === chosenId),
                  disabled: !open,
                  onclick: () => choose(slot.id),
                },
                h(
                  'span',
                  {},
                  slotLabel(slot.startsAt, slot.endsAt),
                  h('br'),
                  h('span', { class: 'meta' }, `Order by ${clock(slot.cutoffAt)}`),
                ),
                h('span', { class: `remaining ${tone}`, 'data-remaining': slot.remaining }, label),
              ),
            );
          }),
        ),
  );
}

// The Slots section: the weekly plan the coming days' slots are made from (weekday, start, end, capacity, cutoff), and
// the upcoming slots with what is reserved of each, live, to close early, move a cutoff or change capacity.
import { api, clock, h, slotLabel } from './lib.js';
import {
  actionButton,
  labelled,
  localInput,
  serialised,
  submitting,
  type OwnerContext,
  type Section,
} from './owner-lib.js';

interface Template {
  weekday: number;
  start: string;
  end: string;
  capacity: number;
  cutoffMinutes: number;
}

interface Slot {
  id: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  reserved: number;
  remaining: number;
  cutoffAt: string;
  status: string;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function slotsSection(ctx: OwnerContext): Section {
  const base = `/v1/locations/${ctx.location.id}`;
  const rows = h('ol', { class: 'list templates', id: 'templates' });
  const upcoming = h('ul', { class: 'list', id: 'upcoming-slots' });
  const slots = new Map<string, Slot>();
  /** Unsaved edits to the plan are kept while others' changes arrive. */
  let dirty = false;

  const number = (name: string, value: number, min: number, max: number) =>
    h('input', { type: 'number', name, value, min, max, required: true, inputmode: 'numeric' });

  const templateRow = (t: Template) => {
    const weekday = h(
      'select',
      { name: 'weekday' },
      ...WEEKDAYS.map((day, i) => h('option', { value: i + 1, selected: t.weekday === i + 1 }, day)),
    );
    const row = h(
      'li',
      { class: 'template' },
      labelled('Day', weekday),
      labelled('From', h('input', { type: 'time', name: 'start', value: t.start, required: true })),
      labelled('To', h('input', { type: 'time', name: 'end', value: t.end, required: true })),
      labelled('Capacity', number('capacity', t.capacity, 1, 10_000)),
      labelled('Cutoff (min)', number('cutoffMinutes', t.cutoffMinutes, 0, 7 * 24 * 60)),
    );
    const remove = h('button', { type: 'button', 'data-action': 'remove-template', class: 'link' }, 'Remove');
    remove.addEventListener('click', () => {
      row.remove();
      dirty = true;
      if (rows.children.length === 0) rows.append(emptyPlan());
    });
    row.append(remove);
    row.addEventListener('input', () => (dirty = true));
    return row;
  };
  const emptyPlan = () => h('li', { class: 'empty' }, 'No slots planned: customers cannot book.');

  const readPlan = (): Template[] =>
    Array.from(rows.querySelectorAll<HTMLElement>('li.template')).map((row) => {
      const value = (name: string) => row.querySelector<HTMLInputElement>(`[name="${name}"]`)!.value;
      return {
        weekday: Number(value('weekday')),
        start: value('start'),
        end: value('end'),
        capacity: Number(value('capacity')),
        cutoffMinutes: Number(value('cutoffMinutes')),
      };
    });

  const showPlan = (templates: Template[]) => {
    rows.replaceChildren(...(templates.length === 0 ? [emptyPlan()] : templates.map(templateRow)));
    dirty = false;
  };

  const add = h('button', { type: 'button', id: 'add-template' }, 'Add a slot');
  add.addEventListener('click', () => {
    rows.querySelector('li.empty')?.remove();
    const today = ((new Date().getDay() + 6) % 7) + 1;
    const row = templateRow({ weekday: today, start: '12:00', end: '13:00', capacity: 10, cutoffMinutes: 30 });
    rows.append(row);
    dirty = true;
    row.querySelector('select')?.focus();
  });
  const plan = h(
    'form',
    { class: 'card', id: 'plan-form' },
    h('h2', {}, 'Weekly plan'),
    h('p', { class: 'muted' }, 'Slots for the coming days are made from this plan.'),
    rows,
    h('div', { class: 'row' }, add, h('button', { type: 'submit', class: 'primary' }, 'Save plan')),
  );
  submitting(plan, async () => {
    const { templates } = await api<{ templates: Template[] }>('PUT', `${base}/slot-templates`, readPlan());
    showPlan(templates);
  });

  const slotRow = (slot: Slot) => {
    const open = slot.status === 'open' && Date.parse(slot.cutoffAt) > Date.now();
    const patch = (body: Record<string, unknown>) => () =>
      api<Slot>('PATCH', `${base}/slots/${slot.id}`, body).then((updated) => {
        slots.set(updated.id, updated);
        renderSlots();
        return updated;
      });
    const capacity = h('input', {
      type: 'number',
      name: 'capacity',
      value: slot.capacity,
      min: slot.reserved,
      max: 10_000,
      inputmode: 'numeric',
    });
    const cutoff = h('input', { type: 'datetime-local', name: 'cutoffAt', value: localInput(slot.cutoffAt) });
    const fill = slot.capacity === 0 ? 1 : slot.reserved / slot.capacity;
    return h(
      'li',
      { class: 'card slot', 'data-slot-id': slot.id, 'data-status': open ? 'open' : 'closed' },
      h(
        'header',
        {},
        h('span', { class: 'name' }, slotLabel(slot.startsAt, slot.endsAt)),
        h('span', { class: 'reserved', 'data-reserved': slot.reserved }, `${slot.reserved}/${slot.capacity} booked`),
      ),
      h('meter', { min: 0, max: 1, value: fill, high: 0.8, 'aria-label': 'Booked' }),
      h(
        'p',
        { class: 'muted' },
        open ? `Orders until ${clock(slot.cutoffAt)}` : slot.status === 'open' ? 'Closed to new orders' : slot.status,
      ),
      open
        ? h(
            'div',
            { class: 'actions' },
            actionButton('Close now', { 'data-action': 'close' }, patch({ cutoffAt: new Date().toISOString() })),
          )
        : null,
      slot.status === 'open'
        ? h(
            'details',
            { class: 'change' },
            h('summary', {}, 'Change'),
            h(
              'div',
              { class: 'row' },
              labelled('Capacity', capacity),
              actionButton('Set capacity', { 'data-action': 'capacity' }, () =>
                patch({ capacity: Number(capacity.value) })(),
              ),
            ),
            h(
              'div',
              { class: 'row' },
              labelled('Cutoff', cutoff),
              actionButton('Move cutoff', { 'data-action': 'cutoff' }, () =>
                patch({ cutoffAt: new Date(cutoff.value).toISOString() })(),
              ),
            ),
          )
        : null,
    );
  };

  const renderSlots = () => {
    const list = [...slots.values()]
      .filter((s) => Date.parse(s.endsAt) > Date.now())
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
    // Someone typing in a slot's fields keeps them; the rest is drawn again.
    const open = new Set(
      Array.from(upcoming.querySelectorAll<HTMLElement>('details[open]')).map(
        (d) => d.closest<HTMLElement>('[data-slot-id]')?.dataset.slotId,
      ),
    );
    upcoming.replaceChildren(
      ...(list.length === 0
        ? [h('li', { class: 'empty' }, 'No upcoming slots.')]
        : list.map((slot) => {
            const row = slotRow(slot);
            if (open.has(slot.id)) row.querySelector('details')?.setAttribute('open', '');
            return row;
          })),
    );
  };

  const readTemplates = serialised(async () => {
    const { templates } = await api<{ templates: Template[] }>('GET', `${base}/slot-templates`);
    if (!dirty) showPlan(templates);
  });
  const readSlots = serialised(async () => {
    const answer = await api<{ slots: Slot[] }>('GET', `${base}/slots`);
    slots.clear();
    for (const slot of answer.slots) slots.set(slot.id, slot);
    renderSlots();
  });

  const el = h(
    'div',
    { class: 'columns slots-layout' },
    plan,
    h('section', { class: 'card', id: 'slots-upcoming' }, h('h2', {}, 'Upcoming slots'), upcoming),
  );
  showPlan([]);
  readTemplates();
  readSlots();
  return {
    el,
    update: ({ type, data }) => {
      if (type === 'slot.opened' || type === 'slot.capacity') {
        // The event carries the whole slot, new or changed.
        const change = data as Omit<Slot, 'id'> & { slotId: string };
        if (typeof change.startsAt !== 'string') return readSlots();
        const { slotId, ...fields } = change;
        slots.set(slotId, { ...fields, id: slotId });
        renderSlots();
      } else if (type === 'snapshot' || type === 'location.changed') {
        readTemplates();
        readSlots();
      }
    },
  };
}

// The Counter section: someone at the counter orders; staff pick what is in stock, a name to call and maybe a slot, and
// the order gets its number at once (paid at the counter). The orders taken here stay listed with their live status,
// to prep, hand over or cancel.
import { orderNumber } from '../src/domain/vocabulary.js';
import { api, h, money, slotLabel } from './lib.js';
import { cancelButton, collectButton, orderCard, prepButton } from './owner-orders.js';
import {
  labelled,
  lotsAt,
  products,
  serialised,
  submitting,
  type OwnerContext,
  type Product,
  type Section,
} from './owner-lib.js';

interface Slot {
  id: string;
  startsAt: string;
  endsAt: string;
  remaining: number;
  status: string;
  cutoffAt: string;
}

interface PlacedOrder {
  id: string;
  status: string;
  totalCents: number;
  label: string | null;
}

const STATUS_WORDS: Record<string, string> = {
  confirmed: 'waiting for prep',
  prepping: 'being prepared',
  ready_for_collection: 'ready for collection',
  completed: 'collected',
  cancelled: 'cancelled',
  uncollected: 'not collected',
};

export function counterSection(ctx: OwnerContext): Section {
  const base = `/v1/locations/${ctx.location.id}`;
  const keyOfTaken = `owner.counter.${ctx.location.id}`;
  const taken: PlacedOrder[] = JSON.parse(sessionStorage.getItem(keyOfTaken) ?? '[]') as PlacedOrder[];
  const quantities = new Map<string, number>();
  let stocked: { product: Product; available: number }[] = [];
  let slots: Slot[] = [];
  /** One key per order being entered: a retried submission places it once. */
  let idempotencyKey = crypto.randomUUID();

  const picker = h('ul', { class: 'list counter-products', id: 'counter-products' });
  const label = h('input', { name: 'label', maxlength: 60, autocomplete: 'off', placeholder: 'e.g. Sam' });
  const slotSelect = h('select', { name: 'slotId' });
  const total = h('output', { id: 'counter-total' }, money(0));
  const placed = h('p', { id: 'counter-number', class: 'counter-number', 'aria-live': 'polite' });
  const mine = h('ul', { class: 'list', id: 'counter-orders' });
  const place = h('button', { type: 'submit', class: 'primary block' }, 'Place counter order');
  const form = h(
    'form',
    { class: 'card', id: 'counter-form' },
    h('h2', {}, 'New counter order'),
    picker,
    h('div', { class: 'row' }, labelled('Name to call (optional)', label), labelled('Slot (optional)', slotSelect)),
    h('p', { class: 'summary' }, 'Total ', total),
    place,
    placed,
  );
  const el = h('div', { class: 'columns two' }, form, h('section', { class: 'card' }, h('h2', {}, 'Taken here'), mine));

  const renderTotal = () => {
    let sum = 0;
    for (const { product } of stocked) sum += (quantities.get(product.id) ?? 0) * product.priceCents;
    total.textContent = money(sum);
    place.disabled = sum === 0 && ![...quantities.values()].some((q) => q > 0);
  };

  const renderPicker = () => {
    picker.replaceChildren(
      ...(stocked.length === 0
        ? [h('li', { class: 'empty' }, 'Nothing in stock here.')]
        : stocked.map(({ product, available }) => {
            const count = h('output', {}, quantities.get(product.id) ?? 0);
            const step = (by: number) => () => {
              const next = Math.max(0, Math.min(available, (quantities.get(product.id) ?? 0) + by));
              quantities.set(product.id, next);
              count.textContent = String(next);
              renderTotal();
            };
            return h(
              'li',
              { class: 'product', 'data-product-id': product.id },
              h(
                'span',
                { class: 'name' },
                product.name,
                h('br'),
                h('span', { class: 'meta muted' }, `${money(product.priceCents)} · ${available} in stock`),
              ),
              h(
                'span',
                { class: 'stepper' },
                h('button', { type: 'button', 'aria-label': `One less ${product.name}`, onclick: step(-1) }, '−'),
                count,
                h('button', { type: 'button', 'aria-label': `One more ${product.name}`, onclick: step(1) }, '+'),
              ),
            );
          })),
    );
    renderTotal();
  };

  const renderSlots = () => {
    const chosen = slotSelect.value;
    const open = slots.filter((s) => s.status === 'open' && s.remaining > 0 && Date.parse(s.cutoffAt) > Date.now());
    slotSelect.replaceChildren(
      h('option', { value: '' }, 'No slot: now'),
      ...open.map((s) => h('option', { value: s.id }, `${slotLabel(s.startsAt, s.endsAt)} (${s.remaining} left)`)),
    );
    if (open.some((s) => s.id === chosen)) slotSelect.value = chosen;
  };

  const renderMine = () => {
    sessionStorage.setItem(keyOfTaken, JSON.stringify(taken.slice(0, 20)));
    mine.replaceChildren(
      ...(taken.length === 0
        ? [h('li', { class: 'empty' }, 'No counter orders yet.')]
        : taken.slice(0, 20).map((order) => {
            const live = ctx.store.orders.get(order.id);
            const status = live?.status ?? order.status;
            const view = live ?? {
              id: order.id,
              number: orderNumber(order.id),
              locationId: ctx.location.id,
              status: order.status as never,
              totalCents: order.totalCents,
              slotStartsAt: null,
              items: [],
              delivery: null,
            };
            const actions = live
              ? [
                  status === 'confirmed' || status === 'prepping' ? prepButton(live) : null,
                  status === 'ready_for_collection' ? collectButton(live) : null,
                  cancelButton(ctx, live),
                ].filter((b) => b !== null)
              : [];
            return orderCard(
              view,
              actions,
              [order.label, STATUS_WORDS[status] ?? status.replace(/_/g, ' ')].filter(Boolean).join(' · '),
            );
          })),
    );
  };

  const readStock = serialised(async () => {
    const [catalog, lots] = await Promise.all([products(), lotsAt(ctx.location.id)]);
    const available = new Map<string, number>();
    for (const lot of lots) available.set(lot.productId, (available.get(lot.productId) ?? 0) + lot.available);
    stocked = catalog
      .filter((p) => (available.get(p.id) ?? 0) > 0)
      .map((product) => ({ product, available: available.get(product.id)! }));
    for (const [id, q] of quantities) {
      const left = available.get(id) ?? 0;
      if (q > left) quantities.set(id, left);
    }
    renderPicker();
  });
  const readSlots = serialised(async () => {
    slots = (await api<{ slots: Slot[] }>('GET', `${base}/slots`)).slots;
    renderSlots();
  });

  submitting(form, async () => {
    const items = [...quantities].filter(([, q]) => q > 0).map(([productId, quantity]) => ({ productId, quantity }));
    if (items.length === 0) throw new Error('Pick at least one product');
    const order = await api<PlacedOrder>(
      'POST',
      `${base}/counter-orders`,
      {
        items,
        ...(label.value.trim() ? { label: label.value.trim() } : {}),
        ...(slotSelect.value ? { slotId: slotSelect.value } : {}),
      },
      { 'idempotency-key': idempotencyKey },
    );
    idempotencyKey = crypto.randomUUID();
    placed.replaceChildren(
      'Order ',
      h('strong', { 'data-number': orderNumber(order.id) }, `#${orderNumber(order.id)}`),
    );
    taken.unshift({ id: order.id, status: order.status, totalCents: order.totalCents, label: order.label });
    quantities.clear();
    label.value = '';
    slotSelect.value = '';
    renderPicker();
    renderMine();
    readStock();
  });

  renderPicker();
  renderSlots();
  renderMine();
  readStock();
  readSlots();
  return {
    el,
    update: ({ type }) => {
      if (type === 'orders') {
        renderMine();
        readStock();
      } else if (type.startsWith('stock.') || type === 'catalog.changed' || type === 'snapshot') readStock();
      if (type === 'slot.capacity' || type === 'slot.opened' || type === 'snapshot') readSlots();
    },
  };
}

// The customer page: sign up or log in, link a bank account, see one's orders move live, choose a shop, items and a
// slot (remaining capacity live), place the order, then follow its timeline live.
import {
  CANCELLABLE_STATUSES,
  FAILED_STATUSES,
  ORDER_REASONS,
  type DeliveryStatus,
  type OrderReason,
  type OrderStatus,
  type SlotStatus,
} from '../src/domain/vocabulary.js';
import { linkBankAccount, type Me } from './bank-account.js';
import { $, ApiError, api, clock, follow, h, loginGate, money, slotLabel, toast } from './lib.js';
import { announceOrder, myOrders } from './my-orders.js';
import { DELIVERY_STATUS, ORDER_STATUS, REASONS } from './order-words.js';

interface NearbyLocation {
  id: string;
  name: string;
  kind: string;
  distanceM: number;
}

interface AvailabilityItem {
  productId: string;
  name: string;
  description: string;
  locations: { locationId: string; available: number; priceInEffectCents: number }[];
}

interface Slot {
  id: string;
  startsAt: string;
  endsAt: string;
  cutoffAt: string;
  capacity: number;
  reserved: number;
  remaining: number;
  status: SlotStatus;
}

interface OrderEvent {
  orderId: string;
  number: string;
  at: string;
  status?: OrderStatus;
  reason?: OrderReason | null;
  totalCents?: number;
  deliveryStatus?: DeliveryStatus;
}

const CANCELLABLE = new Set(CANCELLABLE_STATUSES);
const FAILED = new Set(FAILED_STATUSES);
/** The reason an API error names, when it is one of the order's reasons. */
const reasonOf = (code: string): OrderReason | undefined =>
  (ORDER_REASONS as readonly string[]).includes(code) ? (code as OrderReason) : undefined;

const app = $('#app');
const params = new URLSearchParams(location.search);

/** The delivery point the page was opened with, kept in the links between its views. */
const pointQuery = (lead: '?' | '&') => {
  const point = new URLSearchParams();
  for (const name of ['lat', 'lng']) if (params.has(name)) point.set(name, params.get(name)!);
  const query = point.toString();
  return query ? `${lead}${query}` : '';
};

const state = {
  point: { lat: Number(params.get('lat') ?? 51.5215), lng: Number(params.get('lng') ?? -0.0717), line1: '' },
  locations: [] as NearbyLocation[],
  locationId: null as string | null,
  products: [] as AvailabilityItem[],
  quantities: new Map<string, number>(),
  slots: new Map<string, Slot>(),
  slotId: null as string | null,
  idempotencyKey: crypto.randomUUID(),
  stopSlots: undefined as (() => void) | undefined,
  stopOrders: undefined as (() => void) | undefined,
  testBankAccounts: false,
  /** The checkout shows the bank link step instead of the basket until an account is linked. */
  linking: false,
};

// ---- choosing -------------------------------------------------------------------------------------------

function renderOrderForm(): void {
  const line1 = h('input', {
    name: 'line1',
    required: true,
    placeholder: '1 Brick Lane',
    value: state.point.line1,
    autocomplete: 'street-address',
  });
  const lat = h('input', { name: 'lat', type: 'number', step: 'any', value: state.point.lat, inputmode: 'decimal' });
  const lng = h('input', { name: 'lng', type: 'number', step: 'any', value: state.point.lng, inputmode: 'decimal' });
  const find = h('button', { type: 'submit', class: 'primary block' }, 'Find shops');
  const here = h('button', { type: 'button', class: 'block' }, 'Use my location');
  here.addEventListener('click', () => {
    navigator.geolocation?.getCurrentPosition(
      (pos) => {
        lat.value = String(pos.coords.latitude);
        lng.value = String(pos.coords.longitude);
      },
      () => toast('Could not read your location', 'error'),
    );
  });
  const where = h(
    'form',
    { class: 'card', id: 'where' },
    h('h2', {}, 'Deliver to'),
    h('label', {}, 'Address', line1),
    h('div', { class: 'row' }, h('label', {}, 'Latitude', lat), h('label', {}, 'Longitude', lng)),
    h('div', { class: 'row' }, here, find),
  );
  where.addEventListener('submit', (event) => {
    event.preventDefault();
    state.point = { lat: Number(lat.value), lng: Number(lng.value), line1: line1.value.trim() };
    void findLocations();
  });
  const orders = myOrders();
  state.stopOrders = orders.stop;
  app.replaceChildren(
    orders.element,
    where,
    h('section', { class: 'card', id: 'locations', hidden: true }),
    h('section', { class: 'card', id: 'products', hidden: true }),
    h('section', { class: 'card', id: 'slots', hidden: true }),
    h('section', { class: 'card', id: 'checkout', hidden: true }),
  );
}

async function findLocations(): Promise<void> {
  const { items } = await api<{ items: NearbyLocation[] }>(
    'GET',
    `/v1/locations?lat=${state.point.lat}&lng=${state.point.lng}`,
  );
  state.locations = items;
  const section = $('#locations');
  section.hidden = false;
  section.replaceChildren(
    h('h2', {}, 'Shop'),
    items.length === 0
      ? h('p', { class: 'empty' }, 'No shop delivers there within the hour.')
      : h(
          'ul',
          { class: 'list' },
          ...items.map((loc) =>
            h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'choice',
                  'data-location-id': loc.id,
                  'aria-pressed': String(loc.id === state.locationId),
                  onclick: () => void chooseLocation(loc.id),
                },
                h(
                  'span',
                  {},
                  loc.name,
                  h('br'),
                  h('span', { class: 'meta' }, `${loc.kind} · ${(loc.distanceM / 1000).toFixed(1)} km`),
                ),
              ),
            ),
          ),
        ),
  );
  if (items.length === 1 && items[0]) await chooseLocation(items[0].id);
}

async function chooseLocation(locationId: string): Promise<void> {
  state.locationId = locationId;
  state.slotId = null;
  state.quantities.clear();
  document.querySelectorAll<HTMLElement>('[data-location-id]').forEach((button) => {
    button.setAttribute('aria-pressed', String(button.dataset.locationId === locationId));
  });
  state.stopSlots?.();
  state.slots.clear();
  state.stopSlots = follow(`/v1/locations/${locationId}/slots/events`, {
    snapshot(data) {
      state.slots = new Map((data as { slots: Slot[] }).slots.map((s) => [s.id, s]));
      renderSlots();
    },
    slot(data) {
      const change = data as {
        slotId: string;
        capacity: number;
        reserved: number;
        remaining: number;
        status: SlotStatus;
      };
      const slot = state.slots.get(change.slotId);
      if (!slot) {
        // A slot the shop just opened comes whole: it joins the list.
        const opened = change as Partial<Slot> & { slotId: string };
        if (typeof opened.startsAt !== 'string' || typeof opened.endsAt !== 'string') return;
        state.slots.set(change.slotId, { ...(opened as Slot), id: change.slotId });
        return renderSlots();
      }
      Object.assign(slot, {
        capacity: change.capacity,
        reserved: change.reserved,
        remaining: change.remaining,
        status: change.status,
      });
      renderSlots();
    },
    // Units of a product were received, marked down or thrown out here: what is on offer is read again.
    stock: () => void readProducts(locationId),
  });
  await readProducts(locationId);
}

async function readProducts(locationId: string): Promise<void> {
  const { items } = await api<{ items: AvailabilityItem[] }>(
    'GET',
    `/v1/availability?lat=${state.point.lat}&lng=${state.point.lng}&limit=100`,
  );
  if (state.locationId !== locationId) return;
  state.products = items.filter((item) => item.locations.some((l) => l.locationId === locationId && l.available > 0));
  renderProducts();
  renderCheckout();
}

function offerAt(item: AvailabilityItem) {
  return item.locations.find((l) => l.locationId === state.locationId);
}

function renderProducts(): void {
  const section = $('#products');
  section.hidden = false;
  section.replaceChildren(
    h('h2', {}, 'Items'),
    state.products.length === 0
      ? h('p', { class: 'empty' }, 'Nothing fresh left here right now.')
      : h(
          'ul',
          { class: 'list' },
          ...state.products.map((item) => {
            const offer = offerAt(item)!;
            const quantity = state.quantities.get(item.productId) ?? 0;
            const change = (delta: number) => () => {
              const next = Math.max(0, Math.min(offer.available, quantity + delta));
              if (next === 0) state.quantities.delete(item.productId);
              else state.quantities.set(item.productId, next);
              state.idempotencyKey = crypto.randomUUID();
              renderProducts();
              renderCheckout();
            };
            return h(
              'li',
              { class: 'product', 'data-product-id': item.productId },
              h(
                'span',
                { class: 'name' },
                item.name,
                h('br'),
                h('span', { class: 'meta muted' }, `${money(offer.priceInEffectCents)} · ${offer.available} left`),
              ),
              h(
                'span',
                { class: 'stepper' },
                h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `One less ${item.name}`,
                    onclick: change(-1),
                    disabled: quantity === 0,
                  },
                  '−',
                ),
                h('output', {}, quantity),
                h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `One more ${item.name}`,
                    onclick: change(1),
                    disabled: quantity >= offer.available,
                  },
                  '+',
                ),
              ),
            );
          }),
        ),
  );
}

function slotOpen(slot: Slot): boolean {
  return slot.status === 'open' && slot.remaining > 0 && Date.parse(slot.cutoffAt) > Date.now();
}

function renderSlots(): void {
  const section = document.getElementById('slots');
  if (!section) return;
  section.hidden = false;
  const slots = [...state.slots.values()]
    .filter((s) => Date.parse(s.endsAt) > Date.now())
    .sort((a, b) => a.startsAt.localeCompare(b.startsAt));
  const chosen = state.slotId ? state.slots.get(state.slotId) : undefined;
  if (state.slotId && (!chosen || !slotOpen(chosen))) {
    toast('Your slot just filled up or closed; pick another', 'error');
    state.slotId = null;
  }
  section.replaceChildren(
    h('h2', {}, 'Delivery slot'),
    slots.length === 0
      ? h('p', { class: 'empty' }, 'No delivery slots.')
      : h(
          'ul',
          { class: 'list' },
          ...slots.slice(0, 12).map((slot) => {
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
                  'aria-pressed': String(slot.id === state.slotId),
                  disabled: !open,
                  onclick: () => {
                    state.slotId = slot.id;
                    state.idempotencyKey = crypto.randomUUID();
                    renderSlots();
                    renderCheckout();
                  },
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
  renderCheckout();
}

function renderCheckout(): void {
  const section = document.getElementById('checkout');
  if (!section || !state.locationId || state.linking) return;
  const lines = [...state.quantities].map(([productId, quantity]) => ({ productId, quantity }));
  const total = lines.reduce(
    (sum, l) =>
      sum + l.quantity * (offerAt(state.products.find((p) => p.productId === l.productId)!)?.priceInEffectCents ?? 0),
    0,
  );
  const ready = lines.length > 0 && state.slotId !== null && state.point.line1 !== '';
  const place = h('button', { type: 'button', class: 'primary block', id: 'place', disabled: !ready }, 'Place order');
  place.addEventListener('click', () => void placeOrder(place, lines));
  section.hidden = false;
  section.replaceChildren(
    h(
      'div',
      { class: 'summary' },
      h('span', {}, `${lines.reduce((n, l) => n + l.quantity, 0)} items`),
      h('span', {}, money(total)),
    ),
    ...(state.point.line1 === '' ? [h('p', { class: 'muted' }, 'Enter your address above.')] : []),
    place,
  );
}

async function placeOrder(button: HTMLButtonElement, items: { productId: string; quantity: number }[]): Promise<void> {
  button.disabled = true;
  try {
    const order = await api<{ id: string }>(
      'POST',
      '/v1/orders',
      {
        locationId: state.locationId,
        slotId: state.slotId,
        items,
        address: state.point,
      },
      { 'idempotency-key': state.idempotencyKey },
    );
    state.stopSlots?.();
    state.stopOrders?.();
    announceOrder(order.id);
    history.pushState(null, '', `/order?id=${order.id}${pointQuery('&')}`);
    track(order.id);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'no_payment_method') {
      // The account lost its bank link since the page loaded: link one here, then the same order can go.
      state.linking = true;
      await linkBankAccount($('#checkout'), state.testBankAccounts);
      state.linking = false;
      renderCheckout();
      return;
    }
    const known = err instanceof ApiError ? reasonOf(err.code) : undefined;
    const reason = known ? REASONS[known] : err instanceof ApiError ? err.message : 'the connection failed';
    toast(`Could not place the order: ${reason}`, 'error');
    state.idempotencyKey = crypto.randomUUID();
    button.disabled = false;
  }
}

// ---- following ------------------------------------------------------------------------------------------

function track(orderId: string): void {
  const status = h('p', { class: 'status', id: 'status' }, '…');
  const reason = h('p', { class: 'muted', id: 'reason' });
  const number = h('span', { class: 'number', id: 'number' });
  const total = h('span', { id: 'total' });
  const timeline = h('ol', { class: 'timeline', id: 'timeline' });
  const cancel = h('button', { type: 'button', class: 'block', id: 'cancel', hidden: true }, 'Cancel order');
  cancel.addEventListener('click', () => {
    cancel.disabled = true;
    api('POST', `/v1/orders/${orderId}/cancel`).catch((err: unknown) => {
      toast(err instanceof ApiError ? err.message : 'Could not cancel', 'error');
      cancel.disabled = false;
    });
  });
  app.replaceChildren(
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Your order'),
      h('div', { class: 'summary' }, h('span', {}, 'Order ', number), total),
      status,
      reason,
      cancel,
    ),
    h('section', { class: 'card' }, h('h2', {}, 'Timeline'), timeline),
    h(
      'nav',
      { class: 'links' },
      h('a', { href: `/order${pointQuery('?')}#my-orders` }, 'My orders'),
      h('a', { href: `/order${pointQuery('?')}` }, 'Place another order'),
    ),
  );

  const apply = (event: OrderEvent, text: string) => {
    number.textContent = `#${event.number}`;
    if (event.totalCents !== undefined) total.textContent = money(event.totalCents);
    timeline.append(h('li', { 'data-type': text }, h('time', { datetime: event.at }, clock(event.at)), text));
    if (event.status) {
      status.textContent = ORDER_STATUS[event.status];
      status.dataset.status = event.status;
      reason.textContent = event.reason ? `Because ${REASONS[event.reason]}.` : '';
      status.classList.toggle('error', FAILED.has(event.status));
      cancel.hidden = !CANCELLABLE.has(event.status);
      cancel.disabled = false;
    }
  };
  follow(`/v1/orders/${orderId}/events`, {
    'order.placed': (data) => apply(data as OrderEvent, ORDER_STATUS.placed),
    'order.status': (data) => {
      const event = data as OrderEvent;
      apply(event, event.status ? ORDER_STATUS[event.status] : String(event.status));
    },
    'delivery.status': (data) => {
      const event = data as OrderEvent;
      const text = event.deliveryStatus && DELIVERY_STATUS[event.deliveryStatus];
      if (text) apply(event, text);
    },
  });
}

await loginGate(['customer'], app, { signUp: true });
const me = await api<Me>('GET', '/v1/me');
state.testBankAccounts = me.testBankAccounts;
const following = params.get('id');
if (following) {
  track(following);
} else {
  if (!me.bankAccount.linked) await linkBankAccount(app, me.testBankAccounts);
  renderOrderForm();
  // A slot whose cutoff passes closes on screen at that moment, without waiting for the server's event.
  setInterval(renderSlots, 30_000);
}

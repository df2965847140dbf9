// The owner's back office: one section at a time (orders, counter, slots, stock, catalog, production, staff,
// integrations) chosen from the tab bar and kept in the address (#slots), for the location picked in the header.
// Every section follows the location's live streams, so a change made anywhere (another tab, another owner, a
// customer) shows at once.
import { ACTIVE_STATUSES, type DeliveryStatus, type OrderStatus } from '../src/domain/vocabulary.js';
import { $, api, follow, h, loginGate, toast } from './lib.js';
import { catalogSection } from './owner-catalog.js';
import { counterSection } from './owner-counter.js';
import type { Change, DashboardOrder, OrdersStore, OwnerContext, Place, Section } from './owner-lib.js';
import { ordersSection } from './owner-orders.js';
import { settingsSection } from './owner-settings.js';
import { productionSection } from './owner-production.js';
import { slotsSection } from './owner-slots.js';
import { stockSection } from './owner-stock.js';
import { kitchenSection } from './kitchen.js';
import { staffSection } from './staff.js';
import { webhooksSection } from './webhooks.js';

interface Dashboard {
  locations: Place[];
  drivers: Place[];
  orders: DashboardOrder[];
}

interface OrderChange {
  orderId: string;
  status?: OrderStatus;
  totalCents?: number;
  deliveryStatus?: DeliveryStatus;
  driverId?: string | null;
}

const SECTIONS: { id: string; label: string; make: (ctx: OwnerContext) => Section }[] = [
  { id: 'orders', label: 'Orders', make: ordersSection },
  { id: 'counter', label: 'Counter', make: counterSection },
  { id: 'slots', label: 'Slots', make: slotsSection },
  { id: 'stock', label: 'Stock', make: stockSection },
  { id: 'catalog', label: 'Catalog', make: catalogSection },
  { id: 'production', label: 'Production', make: productionSection },
  { id: 'staff', label: 'Staff', make: staffAndSettings },
  { id: 'integrations', label: 'Integrations', make: integrations },
];

/** The Staff tab: the location's settings beside its staff. */
function staffAndSettings(ctx: OwnerContext): Section {
  const settings = settingsSection(ctx, rename);
  return {
    el: h('div', { class: 'columns two', id: 'staff' }, settings.el, staffSection(ctx.location)),
    update: settings.update,
  };
}

/** The Integrations tab: webhooks out to the shop's other systems, and the kitchen's signed messages in. */
function integrations(ctx: OwnerContext): Section {
  return {
    el: h(
      'div',
      { class: 'columns two', id: 'integrations' },
      webhooksSection(ctx.location),
      kitchenSection(ctx.location),
    ),
  };
}

/** The location got a new name: the picker and the title say it. */
function rename(name: string): void {
  if (!current) return;
  current.name = name;
  const place = store.locations.find((l) => l.id === current!.id);
  if (place) place.name = name;
  const option = Array.from(picker.options).find((o) => o.value === current!.id);
  if (option) option.textContent = name;
  show();
}

/** The location's staff stream: every change at the location that is not an order, by event type. */
const LOCATION_EVENTS = [
  'slot.capacity',
  'slot.opened',
  'stock.received',
  'stock.discounted',
  'stock.discarded',
  'catalog.changed',
  'production.changed',
  'location.changed',
];

const ACTIVE = new Set(ACTIVE_STATUSES);
const app = $('#app');
const store: OrdersStore = { locations: [], drivers: [], orders: new Map() };
const nav = h('nav', { class: 'tabs', 'aria-label': 'Sections' });
const picker = h('select', { id: 'location', name: 'location', 'aria-label': 'Location', hidden: true });
const view = h('div', { id: 'section' });

let current: Place | undefined;
/** The sections made for the current location, by id; made when first shown, dropped when the location changes. */
let made = new Map<string, Section>();
let stopStreams: (() => void)[] = [];

const tell = (change: Change) => {
  for (const section of made.values()) section.update?.(change);
};

function sectionId(): string {
  const id = location.hash.replace(/^#/, '');
  return SECTIONS.some((s) => s.id === id) ? id : 'orders';
}

function show(): void {
  if (!current) return;
  const id = sectionId();
  let section = made.get(id);
  if (!section) {
    section = SECTIONS.find((s) => s.id === id)!.make({ location: current, store });
    made.set(id, section);
  }
  for (const link of Array.from(nav.querySelectorAll('a'))) {
    if (link.dataset.section === id) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  view.replaceChildren(section.el);
  // On a phone the tab bar scrolls sideways: the chosen tab is kept in sight.
  const tab = nav.querySelector<HTMLElement>('[aria-current="page"]');
  if (tab) nav.scrollLeft = Math.max(0, tab.offsetLeft - (nav.clientWidth - tab.offsetWidth) / 2);
  document.title = `${SECTIONS.find((s) => s.id === id)!.label} · ${current.name} · Back office`;
}

/** Works on another location: its own sections and streams from here on. */
function choose(place: Place): void {
  if (current?.id === place.id) return;
  current = place;
  localStorage.setItem('owner.location', place.id);
  for (const stop of stopStreams) stop();
  made = new Map();
  const base = `/v1/locations/${place.id}`;
  const handlers: Record<string, (data: unknown) => void> = { snapshot: (data) => tell({ type: 'snapshot', data }) };
  for (const type of LOCATION_EVENTS) handlers[type] = (data) => tell({ type, data });
  handlers['location.changed'] = (data) => {
    tell({ type: 'location.changed', data });
    void api<Place>('GET', base).then(
      (read) => current?.id === place.id && rename(read.name),
      () => undefined,
    );
  };
  stopStreams = [follow(`${base}/events`, handlers)];
  show();
}

function load(snapshot: Dashboard): void {
  store.locations = snapshot.locations;
  store.drivers = snapshot.drivers;
  store.orders.clear();
  for (const order of snapshot.orders) store.orders.set(order.id, order);
  picker.hidden = snapshot.locations.length < 2;
  const shown = picker.value;
  picker.replaceChildren(...snapshot.locations.map((l) => h('option', { value: l.id }, l.name)));
  const saved = localStorage.getItem('owner.location');
  const next =
    snapshot.locations.find((l) => l.id === (current?.id ?? shown)) ??
    snapshot.locations.find((l) => l.id === saved) ??
    snapshot.locations[0];
  if (!next) {
    view.replaceChildren(h('p', { class: 'empty' }, 'You run no shops yet.'));
    return;
  }
  picker.value = next.id;
  choose(next);
  tell({ type: 'orders', data: null });
}

let refreshing: Promise<void> | undefined;
/** An order this page has not seen (new, or from before it loaded): read the dashboard once more. */
function refresh(): void {
  refreshing ??= api<Dashboard>('GET', '/v1/dashboard')
    .then(load, () => toast('Could not refresh the dashboard', 'error'))
    .finally(() => {
      refreshing = undefined;
    });
}

await loginGate(['owner'], app);
nav.append(...SECTIONS.map((s) => h('a', { href: `#${s.id}`, 'data-section': s.id, id: `tab-${s.id}` }, s.label)));
picker.addEventListener('change', () => {
  const place = store.locations.find((l) => l.id === picker.value);
  if (place) choose(place);
});
$('#pick').append(picker);
app.replaceChildren(nav, view);
window.addEventListener('hashchange', show);

follow('/v1/dashboard/events', {
  snapshot: (data) => load(data as Dashboard),
  'order.status': (data) => {
    const event = data as OrderChange;
    const order = store.orders.get(event.orderId);
    if (!order) {
      if (event.status && ACTIVE.has(event.status)) refresh();
      return;
    }
    order.status = event.status ?? order.status;
    if (event.totalCents !== undefined) order.totalCents = event.totalCents;
    tell({ type: 'orders', data: event });
  },
  'delivery.status': (data) => {
    const event = data as OrderChange;
    const order = store.orders.get(event.orderId);
    if (!order) return refresh();
    order.delivery = { status: event.deliveryStatus ?? 'pending', driverId: event.driverId ?? null };
    tell({ type: 'orders', data: event });
  },
});

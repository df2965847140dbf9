// The owner's dashboard: orders to prep and deliveries to assign, kept current by the dashboard stream, and the staff of
// each of the owner's locations.
import { ACTIVE_STATUSES, type DeliveryStatus, type OrderStatus } from '../src/domain/vocabulary.js';
import { $, ApiError, api, clock, follow, h, loginGate, money, toast } from './lib.js';
import { staffSection } from './staff.js';

interface DashboardOrder {
  id: string;
  number: string;
  locationId: string;
  status: OrderStatus;
  totalCents: number;
  slotStartsAt: string | null;
  items: { name: string; quantity: number }[];
  delivery: { status: DeliveryStatus; driverId: string | null } | null;
}

interface Dashboard {
  locations: { id: string; name: string }[];
  drivers: { id: string; name: string }[];
  orders: DashboardOrder[];
}

interface ChangeEvent {
  orderId: string;
  status?: OrderStatus;
  totalCents?: number;
  deliveryStatus?: DeliveryStatus;
  driverId?: string | null;
}

const ACTIVE = new Set(ACTIVE_STATUSES);
const app = $('#app');
const board = h('div', { id: 'dashboard', class: 'dashboard' });
const staff = h('div', { id: 'staff', class: 'columns two' });
/** The locations whose staff cards are shown, so a snapshot of the same locations keeps them as they are. */
let staffOf = '';
let dashboard: Dashboard = { locations: [], drivers: [], orders: [] };
const orders = new Map<string, DashboardOrder>();
let refreshing: Promise<void> | undefined;

function driverName(id: string | null): string {
  return dashboard.drivers.find((d) => d.id === id)?.name ?? 'a driver';
}

async function act(button: HTMLButtonElement, method: string, url: string, body?: unknown): Promise<void> {
  button.disabled = true;
  try {
    // The change comes back through the stream, like everyone else's, so the page shows only what really happened.
    await api(method, url, body);
  } catch (err) {
    toast(err instanceof ApiError ? err.message : 'The request failed', 'error');
    button.disabled = false;
  }
}

function orderCard(order: DashboardOrder, actions: HTMLElement[]): HTMLElement {
  return h(
    'li',
    { class: 'card job', 'data-order-id': order.id, 'data-status': order.status },
    h(
      'header',
      {},
      h('span', { class: 'number' }, `#${order.number}`),
      h('span', { class: 'muted' }, order.slotStartsAt ? `slot ${clock(order.slotStartsAt)}` : ''),
      h('span', {}, money(order.totalCents)),
    ),
    order.items.length > 0 ? h('ul', {}, ...order.items.map((i) => h('li', {}, `${i.quantity} × ${i.name}`))) : null,
    actions.length > 0 ? h('div', { class: 'actions' }, ...actions) : null,
  );
}

function prepCard(order: DashboardOrder): HTMLElement {
  const next = order.status === 'confirmed' ? 'prepping' : 'prepped';
  const button = h(
    'button',
    { type: 'button', class: 'primary', 'data-action': next },
    next === 'prepping' ? 'Start prepping' : 'Mark prepped',
  );
  button.addEventListener('click', () => void act(button, 'POST', `/v1/orders/${order.id}/prep`, { status: next }));
  return orderCard(order, [button]);
}

function assignCard(order: DashboardOrder): HTMLElement {
  const select = h(
    'select',
    { 'aria-label': 'Driver', name: 'driver' },
    ...dashboard.drivers.map((d) => h('option', { value: d.id }, d.name)),
  );
  const button = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      'data-action': 'assign',
      disabled: !order.delivery || dashboard.drivers.length === 0,
    },
    'Assign',
  );
  button.addEventListener(
    'click',
    () => void act(button, 'POST', `/v1/deliveries/${order.id}/assign`, { driverId: select.value }),
  );
  return orderCard(order, [select, button]);
}

function collectCard(order: DashboardOrder): HTMLElement {
  const button = h('button', { type: 'button', class: 'primary', 'data-action': 'collect' }, 'Collected');
  button.addEventListener('click', () => void act(button, 'POST', `/v1/orders/${order.id}/collect`));
  return orderCard(order, [button]);
}

function outCard(order: DashboardOrder): HTMLElement {
  const card = orderCard(order, []);
  const what =
    order.delivery?.status === 'picked_up' || order.status === 'out_for_delivery' ? 'on the way with' : 'assigned to';
  card.append(h('p', { class: 'muted' }, `${what} ${driverName(order.delivery?.driverId ?? null)}`));
  return card;
}

function column(title: string, id: string, cards: HTMLElement[], empty: string): HTMLElement {
  return h(
    'section',
    { id },
    h('h2', {}, `${title} (${cards.length})`),
    cards.length > 0 ? h('ul', { class: 'list' }, ...cards) : h('p', { class: 'empty' }, empty),
  );
}

function render(): void {
  const all = [...orders.values()].filter((o) => ACTIVE.has(o.status));
  const toPrep = all.filter((o) => o.status === 'confirmed' || o.status === 'prepping');
  const toAssign = all.filter((o) => o.status === 'prepped' && (!o.delivery || o.delivery.status === 'pending'));
  const out = all.filter(
    (o) => o.status === 'out_for_delivery' || (o.status === 'prepped' && o.delivery && o.delivery.status !== 'pending'),
  );
  const toCollect = all.filter((o) => o.status === 'ready_for_collection');
  const waiting = all.filter((o) => o.status === 'awaiting_payment');
  board.replaceChildren(
    h('p', { class: 'muted' }, dashboard.locations.map((l) => l.name).join(' · ') || 'You run no shops yet.'),
    h(
      'div',
      { class: 'columns' },
      column('To prep', 'to-prep', toPrep.map(prepCard), 'Nothing to prep.'),
      column('To assign', 'to-assign', toAssign.map(assignCard), 'Nothing waiting for a driver.'),
      column('Out', 'out', out.map(outCard), 'Nothing on the road.'),
      column('For collection', 'to-collect', toCollect.map(collectCard), 'Nothing waiting at the counter.'),
    ),
    ...(waiting.length > 0
      ? [
          h(
            'p',
            { class: 'muted', id: 'awaiting' },
            `Awaiting payment: ${waiting.map((o) => `#${o.number}`).join(', ')}`,
          ),
        ]
      : []),
  );
}

function load(snapshot: Dashboard): void {
  dashboard = snapshot;
  orders.clear();
  for (const order of snapshot.orders) orders.set(order.id, order);
  render();
  const locations = snapshot.locations.map((l) => l.id).join(',');
  if (locations !== staffOf) {
    staffOf = locations;
    staff.replaceChildren(...snapshot.locations.map((location) => staffSection(location)));
  }
}

/** An order this page has not seen (new, or from before it loaded): read the dashboard once more. */
function refresh(): void {
  refreshing ??= api<Dashboard>('GET', '/v1/dashboard')
    .then(load, () => toast('Could not refresh the dashboard', 'error'))
    .finally(() => {
      refreshing = undefined;
    });
}

await loginGate(['owner'], app);
app.replaceChildren(board, staff);
follow('/v1/dashboard/events', {
  snapshot: (data) => load(data as Dashboard),
  'order.status': (data) => {
    const event = data as ChangeEvent;
    const order = orders.get(event.orderId);
    if (!order) {
      if (event.status && ACTIVE.has(event.status)) refresh();
      return;
    }
    order.status = event.status ?? order.status;
    if (event.totalCents !== undefined) order.totalCents = event.totalCents;
    render();
  },
  'delivery.status': (data) => {
    const event = data as ChangeEvent;
    const order = orders.get(event.orderId);
    if (!order) return refresh();
    order.delivery = { status: event.deliveryStatus ?? 'pending', driverId: event.driverId ?? null };
    render();
  },
});

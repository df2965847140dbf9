// The driver's page: their deliveries to pick up and to hand over, kept current by the driver stream.
import { orderNumber, type DeliveryStatus } from '../src/domain/vocabulary.js';
import { $, ApiError, api, clock, follow, h, loginGate, toast } from './lib.js';

interface Delivery {
  orderId: string;
  number: string;
  status: DeliveryStatus;
  slotStartsAt: string | null;
  address: { lat: number; lng: number; line1: string };
}

interface ChangeEvent {
  orderId: string;
  deliveryStatus: DeliveryStatus;
}

const app = $('#app');
const deliveries = new Map<string, Delivery>();
let refreshing: Promise<void> | undefined;

async function act(button: HTMLButtonElement, url: string): Promise<void> {
  button.disabled = true;
  try {
    await api('POST', url);
  } catch (err) {
    toast(err instanceof ApiError ? err.message : 'The request failed', 'error');
    button.disabled = false;
  }
}

function card(delivery: Delivery): HTMLElement {
  const action =
    delivery.status === 'assigned'
      ? { path: 'pickup', label: 'Picked up' }
      : delivery.status === 'picked_up'
        ? { path: 'complete', label: 'Delivered' }
        : null;
  const button =
    action && h('button', { type: 'button', class: 'primary block', 'data-action': action.path }, action.label);
  button?.addEventListener('click', () => void act(button, `/v1/deliveries/${delivery.orderId}/${action!.path}`));
  const maps = `https://www.openstreetmap.org/?mlat=${delivery.address.lat}&mlon=${delivery.address.lng}#map=17/${delivery.address.lat}/${delivery.address.lng}`;
  return h(
    'li',
    { class: 'card job', 'data-order-id': delivery.orderId, 'data-status': delivery.status },
    h(
      'header',
      {},
      h('span', { class: 'number' }, `#${delivery.number}`),
      h('span', { class: 'muted' }, delivery.slotStartsAt ? `slot ${clock(delivery.slotStartsAt)}` : ''),
    ),
    h('a', { href: maps, target: '_blank', rel: 'noopener noreferrer' }, delivery.address.line1),
    button,
  );
}

function render(): void {
  const all = [...deliveries.values()];
  const section = (title: string, id: string, list: Delivery[], empty: string) =>
    h(
      'section',
      { id },
      h('h2', {}, `${title} (${list.length})`),
      list.length > 0 ? h('ul', { class: 'list' }, ...list.map(card)) : h('p', { class: 'empty' }, empty),
    );
  app.replaceChildren(
    section(
      'To pick up',
      'to-pick-up',
      all.filter((d) => d.status === 'assigned'),
      'Nothing to pick up.',
    ),
    section(
      'On the way',
      'on-the-way',
      all.filter((d) => d.status === 'picked_up'),
      'Nothing on board.',
    ),
    section(
      'Delivered',
      'delivered',
      all.filter((d) => d.status === 'delivered').slice(0, 5),
      'Nothing delivered yet.',
    ),
  );
}

function load(list: Delivery[]): void {
  deliveries.clear();
  for (const delivery of list) deliveries.set(delivery.orderId, delivery);
  render();
}

/** A delivery this page has not seen (just assigned): read the list once more for its address. */
function refresh(): void {
  refreshing ??= api<{ deliveries: Omit<Delivery, 'number'>[] }>('GET', '/v1/deliveries?limit=100')
    .then(
      ({ deliveries: list }) => load(list.map((d) => ({ ...d, number: orderNumber(d.orderId) }))),
      () => toast('Could not refresh deliveries', 'error'),
    )
    .finally(() => {
      refreshing = undefined;
    });
}

await loginGate(['driver'], app);
follow('/v1/driver/events', {
  snapshot: (data) => load((data as { deliveries: Delivery[] }).deliveries),
  'delivery.status': (data) => {
    const event = data as ChangeEvent;
    const delivery = deliveries.get(event.orderId);
    if (!delivery) return refresh();
    delivery.status = event.deliveryStatus;
    render();
  },
});

// One order followed live on the customer page: its number, total, status in words (a collection order says where and
// until when to collect it), the timeline and, while it is allowed, a cancel button.
import {
  CANCELLABLE_STATUSES,
  type DeliveryStatus,
  type Fulfilment,
  type OrderReason,
  type OrderStatus,
} from '../src/domain/vocabulary.js';
import { ApiError, api, clock, follow, h, money, toast } from './lib.js';
import { DELIVERY_STATUS, REASONS, statusWords } from './order-words.js';
import { readyWords, shop } from './shops.js';

interface OrderEvent {
  orderId: string;
  number: string;
  at: string;
  status?: OrderStatus;
  reason?: OrderReason | null;
  totalCents?: number;
  /** On the ready_for_collection step: until when the order waits at the counter. */
  collectBy?: string;
  deliveryStatus?: DeliveryStatus;
}

const CANCELLABLE = new Set(CANCELLABLE_STATUSES);
/** Statuses shown as a failure: the order ended without reaching its customer. */
const ENDED_BADLY = new Set<OrderStatus>(['rejected', 'payment_failed', 'cancelled', 'uncollected']);

/** Shows the order in `root`, with links back to the list and to a new order (keeping the delivery point). */
export async function trackOrder(root: HTMLElement, orderId: string, query: string): Promise<void> {
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
  const heading = h('h2', {}, 'Your order');
  root.replaceChildren(
    h(
      'section',
      { class: 'card' },
      heading,
      h('div', { class: 'summary' }, h('span', {}, 'Order ', number), total),
      status,
      reason,
      cancel,
    ),
    h('section', { class: 'card' }, h('h2', {}, 'Timeline'), timeline),
    h(
      'nav',
      { class: 'links' },
      h('a', { href: `/order${query}#my-orders` }, 'My orders'),
      h('a', { href: `/order${query}` }, 'Place another order'),
    ),
  );

  // How the order reaches its customer decides its words; a collection order also names its shop.
  let fulfilment: Fulfilment = 'delivery';
  let where: Awaited<ReturnType<typeof shop>> | undefined;
  try {
    const order = await api<{ fulfilment: Fulfilment; locationId: string }>('GET', `/v1/orders/${orderId}`);
    fulfilment = order.fulfilment;
    if (fulfilment === 'collection') {
      heading.textContent = 'Your order, to collect';
      where = await shop(order.locationId).catch(() => undefined);
    }
  } catch {
    // The stream below still tells the order's steps, in the delivery order's words.
  }
  root.dataset.fulfilment = fulfilment;

  const apply = (event: OrderEvent, text: string) => {
    number.textContent = `#${event.number}`;
    if (event.totalCents !== undefined) total.textContent = money(event.totalCents);
    timeline.append(h('li', { 'data-type': text }, h('time', { datetime: event.at }, clock(event.at)), text));
    if (event.status) {
      status.textContent =
        event.status === 'ready_for_collection' && where && event.collectBy
          ? readyWords(where, event.collectBy)
          : statusWords(event.status, fulfilment);
      status.dataset.status = event.status;
      reason.textContent = event.reason ? `Because ${REASONS[event.reason]}.` : '';
      status.classList.toggle('error', ENDED_BADLY.has(event.status));
      cancel.hidden = !CANCELLABLE.has(event.status);
      cancel.disabled = false;
    }
  };
  follow(`/v1/orders/${orderId}/events`, {
    'order.placed': (data) => apply(data as OrderEvent, statusWords('placed')),
    'order.status': (data) => {
      const event = data as OrderEvent;
      apply(event, event.status ? statusWords(event.status, fulfilment) : String(event.status));
    },
    'delivery.status': (data) => {
      const event = data as OrderEvent;
      const text = event.deliveryStatus && DELIVERY_STATUS[event.deliveryStatus];
      if (text) apply(event, text);
    },
  });
}

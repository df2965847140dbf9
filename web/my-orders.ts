// "My orders": the customer's recent orders, newest first, whose statuses move as they happen: the most recent open
// orders are each followed on their own stream, the rest are read again now and then.
import {
  FAILED_STATUSES,
  ORDER_STATUS_RANK,
  isTerminal,
  type Fulfilment,
  type OrderStatus,
} from '../src/domain/vocabulary.js';
import { api, follow, h, money } from './lib.js';
import { statusWords } from './order-words.js';
import { readyWords, shop, type Shop } from './shops.js';

export interface OrderSummary {
  id: string;
  number: string;
  status: OrderStatus;
  locationId: string;
  fulfilment: Fulfilment;
  totalCents: number;
  slotStartsAt: string | null;
  /** Until when a ready collection order waits at the counter. */
  collectBy: string | null;
  items: { productId: string; quantity: number }[];
  createdAt: string;
  /** When its status last moved: for an order ready for collection, when it became ready. */
  updatedAt: string;
}

interface OrderPage {
  items: OrderSummary[];
  nextCursor: string | null;
}

interface StatusEvent {
  orderId: string;
  status?: OrderStatus;
  totalCents?: number;
  collectBy?: string;
  at?: string;
}

/**
 * How many orders are followed live at once. A browser opens at most six connections to one server over HTTP/1.1,
 * and every stream holds one for as long as it is open, so the page keeps room for its own requests and a second tab.
 */
const MAX_STREAMS = 3;
/** How often the list is read again while more orders are open than are followed. */
const REREAD_MS = 15_000;
/** Shown as failures: ended without reaching the customer, or never collected (and not refunded). */
const FAILED = new Set<OrderStatus>([...FAILED_STATUSES, 'uncollected']);

/** Tabs of this site tell each other about a new order, so a list open in another tab shows it at once. */
const channel = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel('orders');

export function announceOrder(orderId: string): void {
  channel?.postMessage({ orderId });
}

const placedAt = (iso: string) =>
  new Date(iso).toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** How many items, and when the delivery slot or the collection window starts. */
function contents(order: OrderSummary): string {
  const count = order.items.reduce((n, item) => n + item.quantity, 0);
  const items = `${count} ${count === 1 ? 'item' : 'items'}`;
  const how = order.fulfilment === 'collection' ? 'collect from' : 'delivery from';
  return order.slotStartsAt ? `${items} · ${how} ${placedAt(order.slotStartsAt)}` : items;
}

/** The list as a section of the page, kept current until `stop`. */
export function myOrders(): { element: HTMLElement; stop(): void } {
  const element = h('section', { class: 'card', id: 'my-orders', hidden: true, 'aria-labelledby': 'my-orders-title' });
  const orders = new Map<string, OrderSummary>();
  const streams = new Map<string, () => void>();
  let nextCursor: string | null = null;
  /** Older pages were shown: the cursor points past them, whatever the first page says. */
  let olderLoaded = false;
  let reread: number | undefined;
  let stopped = false;
  /** The shops of orders waiting at a counter, once read. */
  const shops = new Map<string, Shop>();

  /** The order's status in words; one ready for collection says where and until when, once its shop is known. */
  const words = (order: OrderSummary): string => {
    const where = shops.get(order.locationId);
    if (order.status !== 'ready_for_collection') return statusWords(order.status, order.fulfilment);
    if (where && order.collectBy) return readyWords(where, order.collectBy);
    void shop(order.locationId).then((found) => {
      shops.set(order.locationId, found);
      if (!stopped) render();
    });
    return statusWords(order.status, order.fulfilment);
  };

  const render = () => {
    const list = [...orders.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    element.hidden = list.length === 0;
    const older = h('button', { type: 'button', class: 'block', id: 'older-orders' }, 'Show older orders');
    older.addEventListener('click', () => void loadOlder(older));
    element.replaceChildren(
      h('h2', { id: 'my-orders-title' }, 'My orders'),
      h(
        'ul',
        { class: 'list orders' },
        ...list.map((order) =>
          h(
            'li',
            { 'data-order-id': order.id, 'data-status': order.status },
            h(
              'a',
              { class: 'order-link', href: `/order?id=${order.id}` },
              h('span', { class: 'number' }, `#${order.number}`),
              h('span', { class: 'when muted' }, placedAt(order.createdAt)),
              h(
                'span',
                { class: `order-status${FAILED.has(order.status) ? ' error' : ''}`, 'data-status': order.status },
                words(order),
              ),
              h('span', { class: 'total' }, money(order.totalCents)),
              h('span', { class: 'what muted' }, contents(order)),
            ),
          ),
        ),
      ),
      ...(nextCursor ? [older] : []),
    );
  };

  const apply = (event: StatusEvent) => {
    const order = orders.get(event.orderId);
    if (!order || !event.status) return;
    // A stream starts from the order's first event; a replayed step never moves the list back.
    if (ORDER_STATUS_RANK[event.status] < ORDER_STATUS_RANK[order.status]) return;
    order.status = event.status;
    if (event.at) order.updatedAt = event.at;
    if (event.totalCents !== undefined) order.totalCents = event.totalCents;
    if (event.collectBy !== undefined) order.collectBy = event.collectBy;
    render();
    if (isTerminal(order.status)) followOpenOrders();
  };

  /** Follows the most recent open orders, up to the limit; re-reads the list while others stay unfollowed. */
  const followOpenOrders = () => {
    if (stopped) return;
    const open = [...orders.values()]
      .filter((o) => !isTerminal(o.status))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const wanted = new Set(open.slice(0, MAX_STREAMS).map((o) => o.id));
    for (const [id, stop] of streams) {
      if (wanted.has(id)) continue;
      stop();
      streams.delete(id);
    }
    for (const id of wanted) {
      if (!streams.has(id))
        streams.set(id, follow(`/v1/orders/${id}/events`, { 'order.status': (data) => apply(data as StatusEvent) }));
    }
    clearInterval(reread);
    reread = open.length > wanted.size ? window.setInterval(() => void reload(), REREAD_MS) : undefined;
  };

  let reading: Promise<void> | undefined;
  /** Reads the first page again: new orders show, statuses catch up. */
  const reload = () =>
    (reading ??= api<OrderPage>('GET', '/v1/orders?limit=20')
      .then((page) => {
        for (const order of page.items) {
          const known = orders.get(order.id);
          if (known && ORDER_STATUS_RANK[known.status] > ORDER_STATUS_RANK[order.status]) order.status = known.status;
          orders.set(order.id, order);
        }
        if (!olderLoaded) nextCursor = page.nextCursor;
        render();
        followOpenOrders();
      })
      .catch(() => {
        // The next visibility change or announcement reads it again; streams already open keep going.
      })
      .finally(() => {
        reading = undefined;
      }));

  const loadOlder = async (button: HTMLButtonElement) => {
    if (!nextCursor) return;
    button.disabled = true;
    try {
      const page = await api<OrderPage>('GET', `/v1/orders?limit=20&cursor=${encodeURIComponent(nextCursor)}`);
      for (const order of page.items) if (!orders.has(order.id)) orders.set(order.id, order);
      nextCursor = page.nextCursor;
      olderLoaded = true;
      render();
      followOpenOrders();
    } catch {
      button.disabled = false;
    }
  };

  const onVisible = () => {
    if (document.visibilityState === 'visible') void reload();
  };
  const onAnnounced = () => void reload();
  document.addEventListener('visibilitychange', onVisible);
  channel?.addEventListener('message', onAnnounced);
  void reload();

  return {
    element,
    stop() {
      stopped = true;
      clearInterval(reread);
      for (const stop of streams.values()) stop();
      streams.clear();
      document.removeEventListener('visibilitychange', onVisible);
      channel?.removeEventListener('message', onAnnounced);
    },
  };
}

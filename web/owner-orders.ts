// The Orders section: today's orders at the location to prep, to hand to a driver, on the road and waiting at the
// counter, kept current by the dashboard stream.
import { ACTIVE_STATUSES } from '../src/domain/vocabulary.js';
import { api, clock, h, money } from './lib.js';
import { actionButton, type DashboardOrder, type OwnerContext, type Section } from './owner-lib.js';

const ACTIVE = new Set(ACTIVE_STATUSES);

/** The card of one order; its actions change it through the API and the change comes back on the stream. */
export function orderCard(order: DashboardOrder, actions: HTMLElement[], note?: string): HTMLElement {
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
    note ? h('p', { class: 'muted' }, note) : null,
    actions.length > 0 ? h('div', { class: 'actions' }, ...actions) : null,
  );
}

/** Cancel, for a collection order (counter orders included) before its prep starts. */
export function cancelButton(ctx: OwnerContext, order: DashboardOrder): HTMLElement | null {
  if (order.delivery !== null || order.status !== 'confirmed') return null;
  return actionButton('Cancel', { 'data-action': 'cancel', 'aria-label': `Cancel order #${order.number}` }, () =>
    api('POST', `/v1/orders/${order.id}/cancel`),
  );
}

export function prepButton(order: DashboardOrder): HTMLElement {
  const next = order.status === 'confirmed' ? 'prepping' : 'prepped';
  return actionButton(
    next === 'prepping' ? 'Start prepping' : 'Mark prepped',
    { class: 'primary', 'data-action': next },
    () => api('POST', `/v1/orders/${order.id}/prep`, { status: next }),
  );
}

export function collectButton(order: DashboardOrder): HTMLElement {
  return actionButton('Collected', { class: 'primary', 'data-action': 'collect' }, () =>
    api('POST', `/v1/orders/${order.id}/collect`),
  );
}

function column(title: string, id: string, cards: HTMLElement[], empty: string): HTMLElement {
  return h(
    'section',
    { id },
    h('h2', {}, `${title} (${cards.length})`),
    cards.length > 0 ? h('ul', { class: 'list' }, ...cards) : h('p', { class: 'empty' }, empty),
  );
}

export function ordersSection(ctx: OwnerContext): Section {
  const el = h('div', { id: 'dashboard', class: 'dashboard' });
  const { store } = ctx;
  const driverName = (id: string | null) => store.drivers.find((d) => d.id === id)?.name ?? 'a driver';

  const assignCard = (order: DashboardOrder) => {
    const select = h(
      'select',
      { 'aria-label': 'Driver', name: 'driver' },
      ...store.drivers.map((d) => h('option', { value: d.id }, d.name)),
    );
    const assign = actionButton(
      'Assign',
      { class: 'primary', 'data-action': 'assign', disabled: !order.delivery || store.drivers.length === 0 },
      () => api('POST', `/v1/deliveries/${order.id}/assign`, { driverId: select.value }),
    );
    return orderCard(order, [select, assign]);
  };
  const outCard = (order: DashboardOrder) => {
    const what =
      order.delivery?.status === 'picked_up' || order.status === 'out_for_delivery' ? 'on the way with' : 'assigned to';
    return orderCard(order, [], `${what} ${driverName(order.delivery?.driverId ?? null)}`);
  };

  const render = () => {
    const all = [...store.orders.values()].filter((o) => o.locationId === ctx.location.id && ACTIVE.has(o.status));
    const toPrep = all.filter((o) => o.status === 'confirmed' || o.status === 'prepping');
    const toAssign = all.filter((o) => o.status === 'prepped' && (!o.delivery || o.delivery.status === 'pending'));
    const out = all.filter(
      (o) =>
        o.status === 'out_for_delivery' || (o.status === 'prepped' && o.delivery && o.delivery.status !== 'pending'),
    );
    const toCollect = all.filter((o) => o.status === 'ready_for_collection');
    const waiting = all.filter((o) => o.status === 'awaiting_payment');
    el.replaceChildren(
      h(
        'div',
        { class: 'columns four' },
        column(
          'To prep',
          'to-prep',
          toPrep.map((o) =>
            orderCard(
              o,
              [prepButton(o), cancelButton(ctx, o)].filter((b) => b !== null),
            ),
          ),
          'Nothing to prep.',
        ),
        column('To assign', 'to-assign', toAssign.map(assignCard), 'Nothing waiting for a driver.'),
        column('Out', 'out', out.map(outCard), 'Nothing on the road.'),
        column(
          'For collection',
          'to-collect',
          toCollect.map((o) => orderCard(o, [collectButton(o)])),
          'Nothing waiting at the counter.',
        ),
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
  };
  render();
  return {
    el,
    update: (change) => {
      if (change.type === 'orders') render();
    },
  };
}

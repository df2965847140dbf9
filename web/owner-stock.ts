// The Stock section: the location's lots by product, with what is available, reserved by orders and when each
// expires; receiving a new lot, and throwing out what of a lot no order holds.
import { api, h } from './lib.js';
import {
  actionButton,
  labelled,
  lotsAt,
  productSelect,
  products,
  serialised,
  submitting,
  when,
  type Lot,
  type OwnerContext,
  type Product,
  type Section,
} from './owner-lib.js';

export function stockSection(ctx: OwnerContext): Section {
  const base = `/v1/locations/${ctx.location.id}`;
  const list = h('div', { id: 'stock-list', class: 'stock-list' });
  let catalog: Product[] = [];
  let lots: Lot[] = [];

  const product = h('select', { name: 'productId', required: true });
  const quantity = h('input', {
    type: 'number',
    name: 'quantity',
    min: 1,
    max: 100_000,
    value: 10,
    required: true,
    inputmode: 'numeric',
  });
  const expires = h('input', { type: 'datetime-local', name: 'expiresAt' });
  const receive = h(
    'form',
    { class: 'card', id: 'receive-form' },
    h('h2', {}, 'Receive stock'),
    h(
      'div',
      { class: 'row' },
      labelled('Product', product),
      labelled('Units', quantity),
      labelled('Expires (default: shelf life)', expires),
    ),
    h('button', { type: 'submit', class: 'primary block' }, 'Receive'),
  );
  submitting(receive, async () => {
    const lot = await api<Lot>('POST', `${base}/stock`, {
      productId: product.value,
      quantity: Number(quantity.value),
      ...(expires.value ? { expiresAt: new Date(expires.value).toISOString() } : {}),
    });
    lots = [lot, ...lots.filter((l) => l.id !== lot.id)];
    render();
    expires.value = '';
  });

  const lotRow = (lot: Lot) => {
    const expired = Date.parse(lot.expiresAt) <= Date.now();
    const discounted = lot.discountFrom !== null && Date.parse(lot.discountFrom) <= Date.now();
    const discard = actionButton(
      lot.reserved > 0 ? `Discard ${lot.available} unreserved` : 'Discard',
      { 'data-action': 'discard', disabled: lot.available === 0 },
      () => api<Lot>('POST', `${base}/stock/${lot.id}/discard`, {}),
      (updated) => {
        lots = lots.map((l) => (l.id === updated.id ? updated : l));
        render();
      },
    );
    return h(
      'li',
      { class: 'lot', 'data-lot-id': lot.id },
      h(
        'span',
        { class: 'name' },
        h('span', { 'data-available': lot.available }, `${lot.available} available`),
        lot.reserved > 0
          ? h('span', { class: 'muted', 'data-reserved': lot.reserved }, ` · ${lot.reserved} reserved`)
          : null,
        h('br'),
        h(
          'span',
          { class: 'meta muted' },
          `${expired ? 'expired' : 'expires'} ${when(lot.expiresAt)}`,
          lot.sold > 0 ? ` · ${lot.sold} sold` : '',
          lot.discarded > 0 ? ` · ${lot.discarded} discarded` : '',
        ),
      ),
      discounted ? h('span', { class: 'badge' }, 'discounted') : null,
      discard,
    );
  };

  const render = () => {
    const byProduct = new Map<string, Lot[]>();
    for (const lot of lots) {
      if (lot.available + lot.reserved === 0) continue;
      byProduct.set(lot.productId, [...(byProduct.get(lot.productId) ?? []), lot]);
    }
    const names = new Map(catalog.map((p) => [p.id, p.name]));
    const shown = [...byProduct].sort(([a], [b]) => (names.get(a) ?? a).localeCompare(names.get(b) ?? b));
    list.replaceChildren(
      ...(shown.length === 0
        ? [h('p', { class: 'empty' }, 'No stock here. Receive a lot to start selling.')]
        : shown.map(([productId, productLots]) => {
            const available = productLots.reduce((n, l) => n + l.available, 0);
            const reserved = productLots.reduce((n, l) => n + l.reserved, 0);
            return h(
              'section',
              { class: 'card', 'data-product-id': productId },
              h(
                'h3',
                {},
                names.get(productId) ?? 'Product',
                h('span', { class: 'muted' }, ` · ${available} available, ${reserved} reserved`),
              ),
              h('ul', { class: 'list' }, ...productLots.map(lotRow)),
            );
          })),
    );
  };

  const readCatalog = serialised(async () => {
    catalog = await products();
    const chosen = product.value;
    product.replaceChildren(...Array.from(productSelect(catalog).children));
    if (chosen) product.value = chosen;
    render();
  });
  const readLots = serialised(async () => {
    lots = await lotsAt(ctx.location.id);
    render();
  });

  readCatalog();
  readLots();
  return {
    el: h('div', { class: 'columns two stock' }, h('div', {}, list), receive),
    update: ({ type }) => {
      if (type === 'catalog.changed') readCatalog();
      if (type.startsWith('stock.') || type === 'orders' || type === 'snapshot') readLots();
    },
  };
}

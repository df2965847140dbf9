// How the order reaches the customer: delivered to their address, or collected at the shop, whose collection policy
// (how long a ready order waits, and no refund when nobody comes) is said before the customer orders.
import type { Fulfilment } from '../src/domain/vocabulary.js';
import { h } from './lib.js';
import { collectionPolicy, type Shop } from './shops.js';

export function fulfilmentSection(
  section: HTMLElement,
  chosen: Fulfilment,
  shop: Shop | undefined,
  choose: (fulfilment: Fulfilment) => void,
): void {
  const option = (value: Fulfilment, text: string) =>
    h(
      'label',
      { class: 'option' },
      h('input', {
        type: 'radio',
        name: 'fulfilment',
        value,
        checked: chosen === value,
        onchange: () => choose(value),
      }),
      h('span', {}, text),
    );
  section.hidden = false;
  section.replaceChildren(
    h('h2', {}, 'Delivery or collection'),
    h(
      'fieldset',
      { class: 'options' },
      h('legend', { class: 'muted' }, 'How do you want it?'),
      option('delivery', 'Delivered to your address'),
      option('collection', `Collect it at ${shop?.name ?? 'the shop'}`),
      chosen === 'collection'
        ? h(
            'p',
            { class: 'policy', id: 'collection-policy' },
            shop ? collectionPolicy(shop) : 'Reading the shop’s collection policy…',
          )
        : null,
    ),
  );
}

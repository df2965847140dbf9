// The Production section: what the location bakes on its own, per product every so many minutes so many units; a plan
// is changed, paused and resumed, or stopped, and each run arrives as a new lot in Stock.
import { api, h } from './lib.js';
import {
  actionButton,
  labelled,
  productSelect,
  products,
  serialised,
  submitting,
  when,
  type OwnerContext,
  type Product,
  type Section,
} from './owner-lib.js';

interface Plan {
  productId: string;
  everyMinutes: number;
  quantity: number;
  nextRunAt: string | null;
  lastRunAt: string | null;
  paused: boolean;
}

export function productionSection(ctx: OwnerContext): Section {
  const base = `/v1/locations/${ctx.location.id}/production`;
  const list = h('ul', { class: 'list', id: 'plans' });
  let plans: Plan[] = [];
  let catalog: Product[] = [];

  const product = h('select', { name: 'productId', required: true });
  const every = h('input', {
    type: 'number',
    name: 'everyMinutes',
    min: 1,
    max: 1440,
    value: 60,
    required: true,
    inputmode: 'numeric',
  });
  const quantity = h('input', {
    type: 'number',
    name: 'quantity',
    min: 1,
    max: 10_000,
    value: 12,
    required: true,
    inputmode: 'numeric',
  });
  const form = h(
    'form',
    { class: 'card', id: 'plan-product' },
    h('h2', {}, 'Plan a product'),
    h('p', { class: 'muted' }, 'A plan for a product that has one replaces it.'),
    labelled('Product', product),
    h('div', { class: 'row' }, labelled('Every (minutes)', every), labelled('Units per run', quantity)),
    h('button', { type: 'submit', class: 'primary block' }, 'Save plan'),
  );
  submitting(form, async () => {
    await api('PUT', `${base}/${product.value}`, {
      everyMinutes: Number(every.value),
      quantity: Number(quantity.value),
    });
    await readPlans();
  });

  const planRow = (plan: Plan) => {
    const name = catalog.find((p) => p.id === plan.productId)?.name ?? 'Product';
    const edit = h('button', { type: 'button', 'data-action': 'edit' }, 'Edit');
    edit.addEventListener('click', () => {
      product.value = plan.productId;
      every.value = String(plan.everyMinutes);
      quantity.value = String(plan.quantity);
      form.scrollIntoView({ block: 'nearest' });
      every.focus();
    });
    return h(
      'li',
      { class: 'card job', 'data-product-id': plan.productId, 'data-paused': String(plan.paused) },
      h(
        'header',
        {},
        h('span', { class: 'name' }, name),
        plan.paused ? h('span', { class: 'badge bad' }, 'Paused') : h('span', { class: 'badge good' }, 'Running'),
      ),
      h('p', {}, `${plan.quantity} every ${plan.everyMinutes} min`),
      h(
        'p',
        { class: 'muted' },
        [
          plan.nextRunAt && !plan.paused ? `next ${when(plan.nextRunAt)}` : null,
          plan.lastRunAt ? `last ${when(plan.lastRunAt)}` : 'not run yet',
        ]
          .filter(Boolean)
          .join(' · '),
      ),
      h(
        'div',
        { class: 'actions' },
        actionButton(
          plan.paused ? 'Resume' : 'Pause',
          { 'data-action': plan.paused ? 'resume' : 'pause' },
          () => api('PATCH', `${base}/${plan.productId}`, { paused: !plan.paused }),
          () => readPlans(),
        ),
        edit,
        actionButton(
          'Stop',
          { 'data-action': 'stop', 'aria-label': `Stop producing ${name}` },
          () => api('DELETE', `${base}/${plan.productId}`).then(() => true),
          () => readPlans(),
        ),
      ),
    );
  };

  const render = () => {
    list.replaceChildren(
      ...(plans.length === 0
        ? [h('li', { class: 'empty' }, 'Nothing is produced here on a plan.')]
        : [...plans]
            .sort((a, b) =>
              (catalog.find((p) => p.id === a.productId)?.name ?? '').localeCompare(
                catalog.find((p) => p.id === b.productId)?.name ?? '',
              ),
            )
            .map(planRow)),
    );
  };

  const readPlans = async () => {
    plans = (await api<{ plans: Plan[] }>('GET', base)).plans;
    render();
  };
  const readAll = serialised(async () => {
    catalog = await products();
    const chosen = product.value;
    product.replaceChildren(...Array.from(productSelect(catalog).children));
    if (chosen) product.value = chosen;
    await readPlans();
  });
  const reread = serialised(readPlans);

  readAll();
  return {
    el: h('div', { class: 'columns two' }, h('section', {}, h('h2', {}, 'Production plans'), list), form),
    update: ({ type }) => {
      if (type === 'catalog.changed') readAll();
      else if (type === 'production.changed' || type === 'snapshot') reread();
    },
  };
}

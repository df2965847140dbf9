// The Catalog section: every product with its price, shelf life, end-of-day discount, category and dietary tags, each
// editable in place, and a form for a new product. A new price applies to orders placed from then on.
import { PRODUCT_TAGS, type ProductTag } from '../src/domain/vocabulary.js';
import { api, h, money } from './lib.js';
import {
  cents,
  labelled,
  products,
  serialised,
  submitting,
  type OwnerContext,
  type Place,
  type Product,
  type Section,
} from './owner-lib.js';

const TAG_WORDS: Record<ProductTag, string> = {
  vegan: 'Vegan',
  vegetarian: 'Vegetarian',
  gluten_free: 'Gluten free',
  dairy_free: 'Dairy free',
  contains_nuts: 'Contains nuts',
  halal: 'Halal',
  organic: 'Organic',
};

type ProductFields = Omit<Product, 'id' | 'category'> & { categoryId: string | null };

/** The fields of a product as a form; `read` gives what they hold, or throws naming a field that is not valid. */
function productFields(categories: Place[], product?: Product) {
  const name = h('input', { name: 'name', required: true, maxlength: 200, value: product?.name ?? '' });
  const price = h('input', {
    name: 'price',
    required: true,
    inputmode: 'decimal',
    value: product ? (product.priceCents / 100).toFixed(2) : '',
    placeholder: '3.25',
  });
  const shelfLife = h('input', {
    type: 'number',
    name: 'shelfLifeMinutes',
    min: 1,
    required: true,
    value: product?.shelfLifeMinutes ?? 720,
    inputmode: 'numeric',
  });
  const discount = h('input', {
    type: 'number',
    name: 'eodDiscountPercent',
    min: 0,
    max: 100,
    value: product?.eodDiscountPercent ?? 0,
    inputmode: 'numeric',
  });
  const category = h(
    'select',
    { name: 'categoryId' },
    h('option', { value: '' }, 'No category'),
    ...categories.map((c) => h('option', { value: c.id, selected: product?.category?.id === c.id }, c.name)),
  );
  const tags = h(
    'fieldset',
    { class: 'tags' },
    h('legend', {}, 'Tags'),
    ...PRODUCT_TAGS.map((tag) =>
      h(
        'label',
        { class: 'tag' },
        h('input', { type: 'checkbox', name: 'tags', value: tag, checked: product?.tags.includes(tag) ?? false }),
        TAG_WORDS[tag],
      ),
    ),
  );
  const el = h(
    'div',
    { class: 'product-fields' },
    labelled('Name', name),
    h(
      'div',
      { class: 'row' },
      labelled('Price (£)', price),
      labelled('Shelf life (min)', shelfLife),
      labelled('End-of-day discount (%)', discount),
    ),
    labelled('Category', category),
    tags,
  );
  const read = (): ProductFields => {
    const priceCents = cents(price.value);
    if (!Number.isInteger(priceCents) || priceCents < 0) throw new Error('price: enter a price such as 3.25');
    return {
      name: name.value.trim(),
      description: product?.description ?? '',
      priceCents,
      shelfLifeMinutes: Number(shelfLife.value),
      eodDiscountPercent: Number(discount.value || 0),
      categoryId: category.value || null,
      tags: Array.from(tags.querySelectorAll<HTMLInputElement>('input:checked')).map((i) => i.value as ProductTag),
    };
  };
  return { el, read };
}

/** Only what the form changed, so two people editing different fields of a product do not undo each other. */
function changes(before: Product, after: ProductFields): Partial<ProductFields> {
  const out: Partial<ProductFields> = {};
  if (after.name !== before.name) out.name = after.name;
  if (after.priceCents !== before.priceCents) out.priceCents = after.priceCents;
  if (after.shelfLifeMinutes !== before.shelfLifeMinutes) out.shelfLifeMinutes = after.shelfLifeMinutes;
  if (after.eodDiscountPercent !== before.eodDiscountPercent) out.eodDiscountPercent = after.eodDiscountPercent;
  if (after.categoryId !== (before.category?.id ?? null)) out.categoryId = after.categoryId;
  if ([...after.tags].sort().join() !== [...before.tags].sort().join()) out.tags = after.tags;
  return out;
}

export function catalogSection(_ctx: OwnerContext): Section {
  const list = h('ul', { class: 'list', id: 'products' });
  let catalog: Product[] = [];
  let categories: Place[] = [];
  const editing = new Set<string>();

  const productCard = (product: Product) => {
    const fields = productFields(categories, product);
    const form = h(
      'form',
      { class: 'edit-product' },
      fields.el,
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
    );
    submitting(form, async () => {
      const change = changes(product, fields.read());
      if (Object.keys(change).length === 0) return;
      const saved = await api<Product>('PATCH', `/v1/products/${product.id}`, change);
      catalog = catalog.map((p) => (p.id === saved.id ? saved : p));
      editing.delete(product.id);
      form.closest('details')?.removeAttribute('open');
      render();
    });
    const details = h(
      'details',
      { class: 'card product-card', 'data-product-id': product.id, open: editing.has(product.id) },
      h(
        'summary',
        {},
        h('span', { class: 'name' }, product.name),
        h('span', { class: 'price' }, money(product.priceCents)),
        h(
          'span',
          { class: 'meta muted' },
          [
            product.category?.name,
            `keeps ${product.shelfLifeMinutes} min`,
            product.eodDiscountPercent > 0 ? `${product.eodDiscountPercent}% off at closing` : null,
            ...product.tags.map((t) => TAG_WORDS[t]),
          ]
            .filter(Boolean)
            .join(' · '),
        ),
      ),
      form,
    );
    details.addEventListener('toggle', () => {
      if (details.open) editing.add(product.id);
      else editing.delete(product.id);
    });
    return h('li', {}, details);
  };

  const newForm = h('form', { class: 'card', id: 'new-product' });
  const renderNew = () => {
    const fields = productFields(categories);
    newForm.replaceChildren(
      h('h2', {}, 'New product'),
      fields.el,
      h('button', { type: 'submit', class: 'primary block' }, 'Add product'),
    );
    newFormRead = fields.read;
  };
  let newFormRead: () => ProductFields = () => {
    throw new Error('The form is not ready');
  };
  submitting(newForm, async () => {
    const { categoryId, ...rest } = newFormRead();
    const created = await api<Product>('POST', '/v1/products', { ...rest, ...(categoryId ? { categoryId } : {}) });
    catalog = [...catalog.filter((p) => p.id !== created.id), created];
    render();
    renderNew();
  });

  const render = () => {
    // A form someone is typing in stays as it is; the others show the catalogue as it now is.
    const kept = new Map(
      Array.from(list.querySelectorAll<HTMLElement>('details[open]')).map((d) => [
        d.dataset.productId,
        d.parentElement,
      ]),
    );
    const sorted = [...catalog].sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(
      ...(sorted.length === 0
        ? [h('li', { class: 'empty' }, 'No products yet.')]
        : sorted.map((p) => kept.get(p.id) ?? productCard(p))),
    );
  };

  const read = serialised(async () => {
    const [all, { items }] = await Promise.all([products(), api<{ items: Place[] }>('GET', '/v1/categories')]);
    const categoriesChanged = items.map((c) => c.id).join() !== categories.map((c) => c.id).join();
    catalog = all;
    categories = items;
    if (categoriesChanged) renderNew();
    render();
  });
  renderNew();
  read();
  return {
    el: h('div', { class: 'columns two catalog' }, h('section', {}, h('h2', {}, 'Products'), list), newForm),
    update: ({ type }) => {
      if (type === 'catalog.changed' || type === 'snapshot') read();
    },
  };
}

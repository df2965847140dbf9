// The customer's search: words, a category, dietary tags (all must match), a top price and a sort for
// GET /v1/availability, kept in the page's address so a reload searches the same, with the number of nearby products
// beside each category and tag.
import { AVAILABILITY_SORTS, PRODUCT_TAGS, type AvailabilitySort, type ProductTag } from '../src/domain/vocabulary.js';
import { api, h, money } from './lib.js';

export interface Filters {
  q: string;
  category: string | null;
  tags: ProductTag[];
  maxPriceCents: number | null;
  sort: AvailabilitySort;
}

export interface AvailabilityItem {
  productId: string;
  name: string;
  description: string;
  priceCents: number;
  locations: { locationId: string; available: number; priceInEffectCents: number }[];
}

export interface Facets {
  categories: { id: string; name: string; count: number }[];
  tags: { tag: ProductTag; count: number }[];
}

export interface Category {
  id: string;
  name: string;
}

export const TAG_WORDS: Record<ProductTag, string> = {
  vegan: 'Vegan',
  vegetarian: 'Vegetarian',
  gluten_free: 'Gluten free',
  dairy_free: 'Dairy free',
  contains_nuts: 'Contains nuts',
  halal: 'Halal',
  organic: 'Organic',
};

const SORT_WORDS: Record<AvailabilitySort, string> = {
  name: 'Name',
  price: 'Price, lowest first',
  distance: 'Nearest shop first',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isTag = (tag: string): tag is ProductTag => (PRODUCT_TAGS as readonly string[]).includes(tag);
const isSort = (sort: string | null): sort is AvailabilitySort =>
  sort !== null && (AVAILABILITY_SORTS as readonly string[]).includes(sort);

/** The search the address asks for; a value the API would refuse is left out. */
export function readFilters(params: URLSearchParams): Filters {
  const category = params.get('category');
  const price = Number(params.get('maxPriceCents') ?? NaN);
  const sort = params.get('sort');
  return {
    q: (params.get('q') ?? '').slice(0, 100),
    category: category && UUID.test(category) ? category : null,
    tags: [...new Set((params.get('tags') ?? '').split(',').filter(isTag))],
    maxPriceCents: params.has('maxPriceCents') && Number.isInteger(price) && price >= 0 ? price : null,
    sort: isSort(sort) ? sort : 'name',
  };
}

/** Puts the search in the address, beside what else it holds, without adding a step to the history. */
export function writeFilters(filters: Filters): void {
  const params = new URLSearchParams(location.search);
  const set = (name: string, value: string | null) => (value ? params.set(name, value) : params.delete(name));
  set('q', filters.q.trim() || null);
  set('category', filters.category);
  set('tags', filters.tags.join(',') || null);
  set('maxPriceCents', filters.maxPriceCents === null ? null : String(filters.maxPriceCents));
  set('sort', filters.sort === 'name' ? null : filters.sort);
  const query = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
}

/** What the address keeps between the page's views: the point, the shop, the search and the fulfilment. */
const KEPT = ['lat', 'lng', 'shop', 'fulfilment', 'q', 'category', 'tags', 'maxPriceCents', 'sort'];
export const keptQuery = (lead: '?' | '&') => {
  const now = new URLSearchParams(location.search);
  const kept = new URLSearchParams();
  for (const name of KEPT) if (now.has(name)) kept.set(name, now.get(name)!);
  const query = kept.toString();
  return query ? `${lead}${query}` : '';
};
/** Sets one value in the address, without adding a step to the history. */
export const setParam = (name: string, value: string | null) => {
  const now = new URLSearchParams(location.search);
  if (value === null) now.delete(name);
  else now.set(name, value);
  history.replaceState(history.state, '', `${location.pathname}?${now.toString()}${location.hash}`);
};

/** One page of what can reach the point, as the filters narrow it; facets only when asked, as they cost more. */
export function searchAvailability(
  point: { lat: number; lng: number },
  filters: Filters,
  facets: boolean,
): Promise<{ items: AvailabilityItem[]; nextCursor: string | null; facets?: Facets }> {
  const query = new URLSearchParams({ lat: String(point.lat), lng: String(point.lng), limit: '100' });
  if (filters.q.trim()) query.set('q', filters.q.trim());
  if (filters.category) query.set('category', filters.category);
  if (filters.tags.length > 0) query.set('tags', filters.tags.join(','));
  if (filters.maxPriceCents !== null) query.set('maxPriceCents', String(filters.maxPriceCents));
  if (filters.sort !== 'name') query.set('sort', filters.sort);
  if (facets) query.set('facets', 'true');
  return api('GET', `/v1/availability?${query.toString()}`);
}

let categories: Promise<Category[]> | undefined;
/** The categories operators keep, read once per page. */
export function listCategories(): Promise<Category[]> {
  categories ??= api<{ items: Category[] }>('GET', '/v1/categories').then(
    (res) => res.items,
    () => {
      categories = undefined;
      return [];
    },
  );
  return categories;
}

/**
 * The filter controls: each change calls `onChange` with the whole search. `showFacets` writes the counts beside
 * each category and tag: products nearby before category, tags and price narrow them, so each count tells what that
 * choice would leave. The form stays in place while results and counts change, so typing keeps its focus.
 */
export function filterForm(
  filters: Filters,
  allCategories: Category[],
  onChange: (filters: Filters) => void,
): { element: HTMLFormElement; showFacets(facets: Facets): void } {
  const words = h('input', {
    name: 'q',
    type: 'search',
    value: filters.q,
    maxlength: 100,
    placeholder: 'Croissant, loaf…',
    enterkeyhint: 'search',
  });
  const categoryOptions = allCategories.map((c) =>
    h('option', { value: c.id, selected: c.id === filters.category, 'data-name': c.name }, c.name),
  );
  const category = h('select', { name: 'category' }, h('option', { value: '' }, 'All categories'), ...categoryOptions);
  const sort = h(
    'select',
    { name: 'sort' },
    ...AVAILABILITY_SORTS.map((s) => h('option', { value: s, selected: s === filters.sort }, SORT_WORDS[s])),
  );
  const price = h('input', {
    name: 'maxPrice',
    type: 'number',
    min: 0,
    step: 0.01,
    inputmode: 'decimal',
    placeholder: 'Any',
    value: filters.maxPriceCents === null ? undefined : (filters.maxPriceCents / 100).toFixed(2),
  });
  const boxes = PRODUCT_TAGS.map((tag) =>
    h('input', { type: 'checkbox', name: 'tags', value: tag, checked: filters.tags.includes(tag) }),
  );
  const chips = PRODUCT_TAGS.map((tag, i) =>
    h(
      'label',
      { class: 'chip', 'data-tag': tag },
      boxes[i],
      h('span', {}, TAG_WORDS[tag]),
      h('span', { class: 'count' }),
    ),
  );

  const element = h(
    'form',
    { id: 'filters', class: 'filters', role: 'search' },
    h('label', { class: 'words' }, 'Search', words),
    h('div', { class: 'row' }, h('label', {}, 'Category', category), h('label', {}, 'Sort by', sort)),
    h('label', { class: 'price' }, 'Price up to (£)', price),
    h(
      'fieldset',
      { class: 'tags' },
      h('legend', {}, 'Dietary (all must match)'),
      h('div', { class: 'chips' }, ...chips),
    ),
  );
  const current = (): Filters => {
    const pounds = price.value.trim() === '' ? NaN : Number(price.value);
    return {
      q: words.value,
      category: category.value || null,
      tags: PRODUCT_TAGS.filter((_, i) => boxes[i]!.checked),
      maxPriceCents: Number.isFinite(pounds) && pounds >= 0 ? Math.round(pounds * 100) : null,
      sort: isSort(sort.value) ? sort.value : 'name',
    };
  };
  element.addEventListener('change', () => onChange(current()));
  // Typing searches once the customer pauses; Enter searches at once.
  let typing: number | undefined;
  words.addEventListener('input', () => {
    clearTimeout(typing);
    typing = window.setTimeout(() => onChange(current()), 400);
  });
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    onChange(current());
  });

  return {
    element,
    showFacets(facets) {
      const byCategory = new Map(facets.categories.map((c) => [c.id, c.count]));
      const byTag = new Map(facets.tags.map((t) => [t.tag, t.count]));
      for (const option of categoryOptions) {
        const n = byCategory.get(option.value) ?? 0;
        option.textContent = `${option.dataset.name} (${n})`;
        option.dataset.count = String(n);
        option.disabled = n === 0 && !option.selected;
      }
      PRODUCT_TAGS.forEach((tag, i) => {
        const n = byTag.get(tag) ?? 0;
        const label = chips[i]!.querySelector<HTMLElement>('.count')!;
        label.textContent = String(n);
        label.dataset.count = String(n);
        chips[i]!.classList.toggle('none', n === 0 && !boxes[i]!.checked);
      });
    },
  };
}

/** Whether the search narrows what the shop has, so an empty answer says so. */
export const isFiltered = (filters: Filters): boolean =>
  filters.q.trim() !== '' || filters.category !== null || filters.tags.length > 0 || filters.maxPriceCents !== null;

export const offerOf = (item: AvailabilityItem, locationId: string) =>
  item.locations.find((l) => l.locationId === locationId);

/** The item as it was, with nothing left at the shop. */
export const soldOut = (item: AvailabilityItem, locationId: string): AvailabilityItem => ({
  ...item,
  locations: item.locations.map((l) => (l.locationId === locationId ? { ...l, available: 0 } : l)),
});

/**
 * The shop's items with their price in effect and what is left, each with a stepper; an item with nothing left is
 * greyed out as sold out. `change` gets the item's new quantity.
 */
export function itemList(
  items: AvailabilityItem[],
  locationId: string,
  quantities: Map<string, number>,
  filtered: boolean,
  change: (productId: string, quantity: number) => void,
): HTMLElement {
  if (items.length === 0)
    return h(
      'p',
      { class: 'empty' },
      filtered ? 'Nothing here matches your search.' : 'Nothing fresh left here right now.',
    );
  return h(
    'ul',
    { class: 'list' },
    ...items.map((item) => {
      const offer = offerOf(item, locationId)!;
      const out = offer.available <= 0;
      const quantity = quantities.get(item.productId) ?? 0;
      const step = (delta: number) => () =>
        change(item.productId, Math.max(0, Math.min(offer.available, quantity + delta)));
      return h(
        'li',
        {
          class: `product${out ? ' sold-out' : ''}`,
          'data-product-id': item.productId,
          'data-available': offer.available,
          'aria-disabled': out ? 'true' : undefined,
        },
        h(
          'span',
          { class: 'name' },
          item.name,
          h('br'),
          h(
            'span',
            { class: 'meta muted' },
            `${money(offer.priceInEffectCents)} · ${out ? 'Sold out' : `${offer.available} left`}`,
          ),
        ),
        h(
          'span',
          { class: 'stepper' },
          h(
            'button',
            { type: 'button', 'aria-label': `One less ${item.name}`, onclick: step(-1), disabled: quantity === 0 },
            '−',
          ),
          h('output', {}, quantity),
          h(
            'button',
            {
              type: 'button',
              'aria-label': `One more ${item.name}`,
              onclick: step(1),
              disabled: quantity >= offer.available,
            },
            '+',
          ),
        ),
      );
    }),
  );
}

// The customer page: sign up or log in, link a bank account, see one's orders move live, choose a shop, search its
// items by words, category, dietary tags and price, choose delivery or collection and a slot (remaining capacity
// live), place the order, then follow its timeline live.
import { ORDER_REASONS, type Fulfilment, type OrderReason } from '../src/domain/vocabulary.js';
import { linkBankAccount, type Me } from './bank-account.js';
import {
  filterForm,
  isFiltered,
  keptQuery,
  itemList,
  listCategories,
  offerOf,
  readFilters,
  searchAvailability,
  setParam,
  soldOut,
  writeFilters,
  type AvailabilityItem,
  type Facets,
} from './customer-search.js';
import { fulfilmentSection } from './customer-fulfilment.js';
import { followSlots, slotOpen, slotsSection, type Slot } from './customer-slots.js';
import { $, ApiError, api, h, loginGate, money, toast } from './lib.js';
import { announceOrder, myOrders } from './my-orders.js';
import { trackOrder } from './order-view.js';
import { REASONS } from './order-words.js';
import { shop, type Shop } from './shops.js';

interface NearbyLocation {
  id: string;
  name: string;
  kind: string;
  distanceM: number;
}

/** The reason an API error names, when it is one of the order's reasons. */
const reasonOf = (code: string): OrderReason | undefined =>
  (ORDER_REASONS as readonly string[]).includes(code) ? (code as OrderReason) : undefined;

const app = $('#app');
const params = new URLSearchParams(location.search);
/** A stock change refreshes the items once changes pause this long, so a burst of sales reads them once. */
const STOCK_REFRESH_MS = 500;

const state = {
  point: { lat: Number(params.get('lat') ?? 51.5215), lng: Number(params.get('lng') ?? -0.0717), line1: '' },
  locations: [] as NearbyLocation[],
  locationId: null as string | null,
  shop: undefined as Shop | undefined,
  filters: readFilters(params),
  products: [] as AvailabilityItem[],
  /** Every item shown at this shop, as last read: the basket is priced from it. */
  seen: new Map<string, AvailabilityItem>(),
  /** The search the listed products answer. */
  productsSearch: '',
  quantities: new Map<string, number>(),
  fulfilment: (params.get('fulfilment') === 'collection' ? 'collection' : 'delivery') as Fulfilment,
  slots: new Map<string, Slot>(),
  slotId: null as string | null,
  idempotencyKey: crypto.randomUUID(),
  stopSlots: undefined as (() => void) | undefined,
  stopOrders: undefined as (() => void) | undefined,
  stockRefresh: undefined as number | undefined,
  showFacets: undefined as ((facets: Facets) => void) | undefined,
  facetsStale: true,
  /** Each search gets a number; an answer to an older one is dropped. */
  search: 0,
  testBankAccounts: false,
  /** The checkout shows the bank link step instead of the basket until an account is linked. */
  linking: false,
};

// ---- choosing -------------------------------------------------------------------------------------------

function renderOrderForm(): void {
  const line1 = h('input', {
    name: 'line1',
    placeholder: '1 Brick Lane',
    value: state.point.line1,
    autocomplete: 'street-address',
  });
  const lat = h('input', { name: 'lat', type: 'number', step: 'any', value: state.point.lat, inputmode: 'decimal' });
  const lng = h('input', { name: 'lng', type: 'number', step: 'any', value: state.point.lng, inputmode: 'decimal' });
  const find = h('button', { type: 'submit', class: 'primary block' }, 'Find shops');
  const here = h('button', { type: 'button', class: 'block' }, 'Use my location');
  here.addEventListener('click', () => {
    navigator.geolocation?.getCurrentPosition(
      (pos) => {
        lat.value = String(pos.coords.latitude);
        lng.value = String(pos.coords.longitude);
      },
      () => toast('Could not read your location', 'error'),
    );
  });
  const where = h(
    'form',
    { class: 'card', id: 'where' },
    h('h2', {}, 'Where are you?'),
    h('label', {}, 'Address (for delivery)', line1),
    h('div', { class: 'row' }, h('label', {}, 'Latitude', lat), h('label', {}, 'Longitude', lng)),
    h('div', { class: 'row' }, here, find),
  );
  line1.addEventListener('input', () => {
    state.point.line1 = line1.value.trim();
    renderCheckout();
  });
  where.addEventListener('submit', (event) => {
    event.preventDefault();
    state.point = { lat: Number(lat.value), lng: Number(lng.value), line1: line1.value.trim() };
    setParam('lat', String(state.point.lat));
    setParam('lng', String(state.point.lng));
    void findLocations();
  });
  const orders = myOrders();
  state.stopOrders = orders.stop;
  app.replaceChildren(
    orders.element,
    where,
    h('section', { class: 'card', id: 'locations', hidden: true }),
    h('section', { class: 'card', id: 'search', hidden: true }),
    h('section', { class: 'card', id: 'products', hidden: true }),
    h('section', { class: 'card', id: 'fulfilment', hidden: true }),
    h('section', { class: 'card', id: 'slots', hidden: true }),
    h('section', { class: 'card', id: 'checkout', hidden: true }),
  );
}

async function findLocations(reopen?: string): Promise<void> {
  const { items } = await api<{ items: NearbyLocation[] }>(
    'GET',
    `/v1/locations?lat=${state.point.lat}&lng=${state.point.lng}`,
  );
  state.locations = items;
  const section = $('#locations');
  section.hidden = false;
  section.replaceChildren(
    h('h2', {}, 'Shop'),
    items.length === 0
      ? h('p', { class: 'empty' }, 'No shop delivers there within the hour.')
      : h(
          'ul',
          { class: 'list' },
          ...items.map((loc) =>
            h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'choice',
                  'data-location-id': loc.id,
                  'aria-pressed': String(loc.id === state.locationId),
                  onclick: () => void chooseLocation(loc.id),
                },
                h(
                  'span',
                  {},
                  loc.name,
                  h('br'),
                  h('span', { class: 'meta' }, `${loc.kind} · ${(loc.distanceM / 1000).toFixed(1)} km`),
                ),
              ),
            ),
          ),
        ),
  );
  const again = items.find((loc) => loc.id === reopen) ?? (items.length === 1 ? items[0] : undefined);
  if (again) await chooseLocation(again.id);
}

async function chooseLocation(locationId: string): Promise<void> {
  state.locationId = locationId;
  state.slotId = null;
  state.quantities.clear();
  state.products = [];
  state.seen.clear();
  setParam('shop', locationId);
  document.querySelectorAll<HTMLElement>('[data-location-id]').forEach((button) => {
    button.setAttribute('aria-pressed', String(button.dataset.locationId === locationId));
  });
  state.stopSlots?.();
  state.slots.clear();
  state.stopSlots = followSlots(locationId, state.slots, {
    changed: renderSlots,
    stock: () => {
      clearTimeout(state.stockRefresh);
      state.stockRefresh = window.setTimeout(() => void loadProducts(true), STOCK_REFRESH_MS);
    },
  });
  state.shop = undefined;
  void shop(locationId).then((found) => {
    if (state.locationId !== locationId) return;
    state.shop = found;
    renderFulfilment();
  });
  const search = $('#search');
  search.hidden = false;
  const form = filterForm(state.filters, await listCategories(), (filters) => {
    if (JSON.stringify(filters) === JSON.stringify(state.filters)) return;
    const wordsChanged = filters.q !== state.filters.q;
    state.filters = filters;
    writeFilters(filters);
    if (wordsChanged) state.facetsStale = true;
    void loadProducts(false);
  });
  search.replaceChildren(h('h2', {}, 'Find items'), form.element);
  renderFulfilment();
  state.showFacets = form.showFacets;
  state.facetsStale = true;
  await loadProducts(false);
  renderCheckout();
}

/**
 * Reads the items again. A fresh search shows what it finds; a refresh after a stock change keeps the items already
 * shown in their places, and one that is gone from the answer stays there as sold out. The counts beside the filters
 * change only with the point and the words, so they are asked for again only after those change.
 */
async function loadProducts(refresh: boolean): Promise<void> {
  const locationId = state.locationId;
  const search = ++state.search;
  const searched = JSON.stringify(state.filters);
  let page;
  try {
    page = await searchAvailability(state.point, state.filters, state.facetsStale);
  } catch (err) {
    toast(err instanceof ApiError ? err.message : 'Could not read the items', 'error');
    return;
  }
  if (search !== state.search || locationId !== state.locationId) return;
  if (page.facets) {
    state.facetsStale = false;
    state.showFacets?.(page.facets);
  }
  const found = page.items.filter((item) => item.locations.some((l) => l.locationId === locationId));
  // Only a list of the same search keeps its places; one of an earlier search is replaced.
  if (refresh && state.productsSearch === searched) {
    const byId = new Map(found.map((item) => [item.productId, item]));
    const kept = state.products.map((item) => byId.get(item.productId) ?? soldOut(item, locationId!));
    const shown = new Set(kept.map((item) => item.productId));
    state.products = [...kept, ...found.filter((item) => !shown.has(item.productId))];
  } else {
    state.products = found;
  }
  state.productsSearch = searched;
  for (const item of state.products) state.seen.set(item.productId, item);
  // The basket holds no more than is left; an item the search leaves out stays in it.
  for (const [productId, quantity] of state.quantities) {
    const item = state.products.find((p) => p.productId === productId);
    const available = item ? (offerAt(item)?.available ?? 0) : quantity;
    if (available >= quantity) continue;
    if (available === 0) state.quantities.delete(productId);
    else state.quantities.set(productId, available);
    toast(available === 0 ? `${item!.name} just sold out` : `Only ${available} ${item!.name} left`, 'error');
  }
  renderProducts();
  renderCheckout();
}

const offerAt = (item: AvailabilityItem) => offerOf(item, state.locationId!);

function renderProducts(): void {
  const section = document.getElementById('products');
  if (!section || !state.locationId) return;
  section.hidden = false;
  section.replaceChildren(
    h('h2', {}, 'Items'),
    itemList(state.products, state.locationId!, state.quantities, isFiltered(state.filters), (productId, quantity) => {
      if (quantity === 0) state.quantities.delete(productId);
      else state.quantities.set(productId, quantity);
      state.idempotencyKey = crypto.randomUUID();
      renderProducts();
      renderCheckout();
    }),
  );
}

function renderFulfilment(): void {
  const section = document.getElementById('fulfilment');
  if (!section || !state.locationId) return;
  fulfilmentSection(section, state.fulfilment, state.shop, (fulfilment) => {
    state.fulfilment = fulfilment;
    setParam('fulfilment', fulfilment === 'collection' ? fulfilment : null);
    state.idempotencyKey = crypto.randomUUID();
    renderFulfilment();
    renderSlots();
  });
}

function renderSlots(): void {
  const section = document.getElementById('slots');
  if (!section || !state.locationId) return;
  const chosen = state.slotId ? state.slots.get(state.slotId) : undefined;
  if (state.slotId && (!chosen || !slotOpen(chosen))) {
    toast('Your slot just filled up or closed; pick another', 'error');
    state.slotId = null;
  }
  slotsSection(section, state.slots, state.slotId, state.fulfilment, (slotId) => {
    state.slotId = slotId;
    state.idempotencyKey = crypto.randomUUID();
    renderSlots();
  });
  renderCheckout();
}

function renderCheckout(): void {
  const section = document.getElementById('checkout');
  if (!section || !state.locationId || state.linking) return;
  const lines = [...state.quantities].map(([productId, quantity]) => ({ productId, quantity }));
  const total = lines.reduce(
    (sum, l) => sum + l.quantity * (offerAt(state.seen.get(l.productId)!)?.priceInEffectCents ?? 0),
    0,
  );
  const collection = state.fulfilment === 'collection';
  const needsAddress = !collection && state.point.line1 === '';
  const ready = lines.length > 0 && state.slotId !== null && !needsAddress;
  const place = h('button', { type: 'button', class: 'primary block', id: 'place', disabled: !ready }, 'Place order');
  place.addEventListener('click', () => void placeOrder(place, lines));
  section.hidden = false;
  section.replaceChildren(
    h(
      'div',
      { class: 'summary' },
      h('span', {}, `${lines.reduce((n, l) => n + l.quantity, 0)} items`),
      h('span', {}, money(total)),
    ),
    ...(needsAddress ? [h('p', { class: 'muted' }, 'Enter your address above.')] : []),
    ...(collection && state.shop
      ? [
          h(
            'p',
            { class: 'muted', id: 'no-refund' },
            `Not collected within ${state.shop.collectionWindowMinutes} minutes of being ready: no refund.`,
          ),
        ]
      : []),
    place,
  );
}

async function placeOrder(button: HTMLButtonElement, items: { productId: string; quantity: number }[]): Promise<void> {
  button.disabled = true;
  try {
    const order = await api<{ id: string }>(
      'POST',
      '/v1/orders',
      {
        locationId: state.locationId,
        slotId: state.slotId,
        items,
        fulfilment: state.fulfilment,
        ...(state.fulfilment === 'delivery' ? { address: state.point } : {}),
      },
      { 'idempotency-key': state.idempotencyKey },
    );
    // The shop's view is gone: a refresh still under way has nowhere to show.
    state.stopSlots?.();
    state.stopOrders?.();
    clearTimeout(state.stockRefresh);
    state.locationId = null;
    announceOrder(order.id);
    history.pushState(null, '', `/order?id=${order.id}${keptQuery('&')}`);
    void trackOrder(app, order.id, keptQuery('?'));
  } catch (err) {
    if (err instanceof ApiError && err.code === 'no_payment_method') {
      // The account lost its bank link since the page loaded: link one here, then the same order can go.
      state.linking = true;
      await linkBankAccount($('#checkout'), state.testBankAccounts);
      state.linking = false;
      renderCheckout();
      return;
    }
    const known = err instanceof ApiError ? reasonOf(err.code) : undefined;
    const reason = known ? REASONS[known] : err instanceof ApiError ? err.message : 'the connection failed';
    toast(`Could not place the order: ${reason}`, 'error');
    state.idempotencyKey = crypto.randomUUID();
    button.disabled = false;
  }
}

await loginGate(['customer'], app, { signUp: true });
const me = await api<Me>('GET', '/v1/me');
state.testBankAccounts = me.testBankAccounts;
const following = params.get('id');
if (following) {
  void trackOrder(app, following, keptQuery('?'));
} else {
  if (!me.bankAccount.linked) await linkBankAccount(app, me.testBankAccounts);
  renderOrderForm();
  // Opened again on a shop (a reload, or "Place another order"): search there at once, as the address says.
  const reopen = params.get('shop');
  if (reopen && params.has('lat') && params.has('lng')) void findLocations(reopen);
  // A slot whose cutoff passes closes on screen at that moment, without waiting for the server's event.
  setInterval(renderSlots, 30_000);
}

// What the owner's sections share: the location they work on, the orders the dashboard stream keeps current, buttons
// that wait for their request, and the catalogue and stock reads several sections need.
import type { DeliveryStatus, OrderStatus, ProductTag } from '../src/domain/vocabulary.js';
import { ApiError, api, h, toast } from './lib.js';

export interface Place {
  id: string;
  name: string;
}

export interface DashboardOrder {
  id: string;
  number: string;
  locationId: string;
  status: OrderStatus;
  totalCents: number;
  slotStartsAt: string | null;
  items: { name: string; quantity: number }[];
  delivery: { status: DeliveryStatus; driverId: string | null } | null;
}

/** The owner's active orders and drivers as the dashboard stream last told them. */
export interface OrdersStore {
  locations: Place[];
  drivers: Place[];
  orders: Map<string, DashboardOrder>;
}

/** What a section is told: a change of the location's data (a staff stream event type) or of the orders. */
export type Change = { type: string; data: unknown };

export interface Section {
  el: HTMLElement;
  /** Something changed at the location or in its orders; the section reads again what it shows of it. */
  update?(change: Change): void;
}

export interface OwnerContext {
  location: Place;
  store: OrdersStore;
}

/** The API's message for a refused request, the page's own for a check it made, else a plain failure. */
export const errorText = (err: unknown) =>
  err instanceof ApiError || (err instanceof Error && err.name === 'Error')
    ? err.message
    : 'The request failed. Try again.';

/**
 * Runs a request for a button: the button is disabled until it answers, an error shows the API's message. Resolves
 * with the answer, or undefined when it failed.
 */
export async function run<T>(button: HTMLButtonElement, request: () => Promise<T>): Promise<T | undefined> {
  button.disabled = true;
  try {
    return await request();
  } catch (err) {
    toast(errorText(err), 'error');
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** A button whose click runs `request` (disabled meanwhile) and then `after` with its answer. */
export function actionButton<T>(
  label: string,
  attrs: Record<string, string | boolean | undefined>,
  request: () => Promise<T>,
  after?: (answer: T) => void,
): HTMLButtonElement {
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', () => {
    void run(button, request).then((answer) => {
      if (answer !== undefined) after?.(answer);
    });
  });
  return button;
}

/** A form whose submission runs with every button disabled and shows the API's error on its own line and a toast. */
export function submitting(form: HTMLFormElement, submit: () => Promise<void>): void {
  const line = h('p', { class: 'error', role: 'alert' });
  form.append(line);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    line.textContent = '';
    const buttons = Array.from(form.querySelectorAll<HTMLButtonElement>('button'));
    for (const button of buttons) button.disabled = true;
    submit()
      .catch((err: unknown) => {
        line.textContent = errorText(err);
        toast(errorText(err), 'error');
      })
      .finally(() => {
        for (const button of buttons) button.disabled = false;
      });
  });
}

/** Every page of a cursor-paginated list, up to `maxPages` of 100. */
export async function allPages<T>(url: string, maxPages = 20): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const sep = url.includes('?') ? '&' : '?';
    const answer: { items: T[]; nextCursor: string | null } = await api(
      'GET',
      `${url}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    items.push(...answer.items);
    cursor = answer.nextCursor;
    if (!cursor) break;
  }
  return items;
}

export interface Product {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  shelfLifeMinutes: number;
  eodDiscountPercent: number;
  category: Place | null;
  tags: ProductTag[];
}

export interface Lot {
  id: number;
  productId: string;
  quantity: number;
  available: number;
  reserved: number;
  sold: number;
  discarded: number;
  producedAt: string;
  expiresAt: string;
  discountFrom: string | null;
}

export const products = () => allPages<Product>('/v1/products');
export const lotsAt = (locationId: string) => allPages<Lot>(`/v1/locations/${locationId}/stock`);

/** A select of products by name; `only` keeps the ones given. */
export function productSelect(list: Product[], attrs: Record<string, string> = {}): HTMLSelectElement {
  return h(
    'select',
    { name: 'productId', required: true, ...attrs },
    ...[...list].sort((a, b) => a.name.localeCompare(b.name)).map((p) => h('option', { value: p.id }, p.name)),
  );
}

/** A short date and time in the page's zone. */
export const when = (iso: string) =>
  new Date(iso).toLocaleString([], {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });

/** An instant as a datetime-local input value, in the browser's zone. */
export function localInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A labelled input for the compact forms of the back office. */
export function labelled(label: string, input: HTMLElement): HTMLElement {
  return h('label', { class: 'inline-field' }, h('span', {}, label), input);
}

/** Pounds typed in a field as cents; NaN when it is not a price. */
export function cents(value: string): number {
  const n = Number(value.replace(/^£/, '').trim());
  return Number.isFinite(n) && value.trim() !== '' ? Math.round(n * 100) : Number.NaN;
}

/** Reads once at a time: a read asked for while one runs happens once more after it. */
export function serialised(read: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const go = () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    read()
      .catch((err: unknown) => toast(errorText(err), 'error'))
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          go();
        }
      });
  };
  return go;
}

// What every page shares: the JSON API with the session cookie and CSRF header, the login gate, live streams and small DOM helpers.
import { ApiError } from '../src/api/errors.js';
import type { Role } from '../src/domain/vocabulary.js';

export { ApiError };

export interface SessionUser {
  id: string;
  name: string;
  role: Role;
  locationIds: string[];
}

/** Calls the API with the session cookie; every state-changing call carries the CSRF header the API requires. */
export async function api<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: { 'x-csrf': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const error = (data ?? {}) as { error?: string; message?: string; details?: unknown };
    throw new ApiError(res.status, error.error ?? 'error', error.message ?? res.statusText, error.details);
  }
  return data as T;
}

type Child = Node | string | number | null | undefined | false;

/** Creates an element: `h('button', { class: 'primary', onclick }, 'Go')`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | EventListener | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
  return el;
}

export function $(selector: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`missing ${selector}`);
  return el;
}

export const money = (cents: number) => `£${(cents / 100).toFixed(2)}`;
export const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
export const slotLabel = (startsAt: string, endsAt: string) => {
  const day = new Date(startsAt).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' });
  return `${day}, ${clock(startsAt)}–${clock(endsAt)}`;
};

/** A short message at the bottom of the screen. */
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  const el = h('div', { class: `toast ${kind}`, role: 'status' }, message);
  document.body.append(el);
  setTimeout(() => el.remove(), 4_000);
}

/**
 * Shows the login form until a session of one of `roles` exists, then resolves with its user.
 * The token is sent once; from then on a signed httpOnly cookie carries the session.
 */
export async function loginGate(roles: Role[], root: HTMLElement): Promise<SessionUser> {
  try {
    const { user } = await api<{ user: SessionUser }>('GET', '/v1/session');
    if (roles.includes(user.role)) {
      showUser(user);
      return user;
    }
  } catch (err) {
    if (!(err instanceof ApiError) || err.statusCode !== 401) throw err;
  }
  return new Promise((resolve) => {
    const input = h('input', {
      type: 'password',
      name: 'token',
      autocomplete: 'current-password',
      required: true,
      placeholder: 'Your access token',
    });
    const error = h('p', { class: 'error', 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'card login', id: 'login' },
      h('h2', {}, 'Log in'),
      h('p', { class: 'muted' }, `This page is for ${roles.join(' or ')} accounts.`),
      h('label', {}, 'Access token', input),
      error,
      h('button', { type: 'submit', class: 'primary' }, 'Log in'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      error.textContent = '';
      api<{ user: SessionUser }>('POST', '/v1/session', { token: input.value.trim() }).then(
        ({ user }) => {
          if (!roles.includes(user.role)) {
            error.textContent = `That token belongs to a ${user.role}; this page needs ${roles.join(' or ')}.`;
            return;
          }
          form.remove();
          showUser(user);
          resolve(user);
        },
        (err: unknown) => {
          error.textContent =
            err instanceof ApiError && err.statusCode === 401 ? 'Unknown token.' : 'Could not log in. Try again.';
        },
      );
    });
    root.replaceChildren(form);
    input.focus();
  });
}

function showUser(user: SessionUser): void {
  const slot = document.getElementById('user');
  if (!slot) return;
  const logout = h('button', { class: 'link', type: 'button' }, 'Log out');
  logout.addEventListener('click', () => {
    void api('DELETE', '/v1/session').finally(() => location.reload());
  });
  slot.replaceChildren(h('span', { class: 'muted' }, user.name), logout);
}

export interface LiveHandlers {
  /** The current state: first on connect, and again when the client fell too far behind. */
  snapshot?(data: unknown): void;
  [eventType: string]: ((data: unknown, id: number) => void) | undefined;
}

/**
 * Follows an SSE stream. The browser reconnects by itself with Last-Event-ID, so a dropped connection
 * loses nothing; an event seen twice (a stream replayed from the start after a hard failure) is ignored.
 */
export function follow(url: string, handlers: LiveHandlers): () => void {
  const indicator = document.getElementById('live');
  let lastId = -1;
  let source: EventSource | undefined;
  let retry: number | undefined;
  const setState = (state: 'live' | 'connecting' | 'offline') => {
    if (!indicator) return;
    indicator.hidden = false;
    indicator.dataset.state = state;
    indicator.textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline';
  };
  const open = () => {
    setState('connecting');
    source = new EventSource(url, { withCredentials: true });
    source.onopen = () => setState('live');
    source.onerror = () => {
      if (source?.readyState === EventSource.CLOSED) {
        // Refused (401, 404, 503): the browser gives up, so try again later with a fresh stream.
        setState('offline');
        retry = window.setTimeout(open, 5_000);
      } else {
        setState('connecting');
      }
    };
    for (const [type, handler] of Object.entries(handlers)) {
      if (!handler) continue;
      source.addEventListener(type, (event) => {
        const message = event as MessageEvent<string>;
        const id = Number(message.lastEventId);
        if (type !== 'snapshot' && id <= lastId) return;
        lastId = Math.max(lastId, id);
        handler(JSON.parse(message.data), id);
      });
    }
  };
  open();
  return () => {
    clearTimeout(retry);
    source?.close();
  };
}

// What every page shares: the JSON API with the session cookie and CSRF header, form fields that show the API's errors,
// the login gate, live streams and small DOM helpers.
import { ApiError } from '../src/api/errors.js';
import type { Role } from '../src/domain/vocabulary.js';

export { ApiError };

export interface SessionUser {
  id: string;
  name: string;
  email?: string | null;
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

/** The page each role works on, for a user who signed in on another one. */
export const PAGE_OF_ROLE: Record<Role, string> = {
  customer: '/order',
  owner: '/owner',
  driver: '/driver',
  operator: '/owner',
};

/** The password rule the API holds every password to, shown beside each password field. */
export const PASSWORD_RULE = { min: 10, max: 200, text: 'At least 10 characters (at most 200).' };

let fieldCount = 0;

/**
 * A labelled form field with an optional hint and the place its error shows, both announced with the input
 * (aria-describedby), so an error from the API lands next to the field it is about.
 */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  const id = input.id || `field-${input.name}-${++fieldCount}`;
  input.id = id;
  const hintEl = hint ? h('p', { class: 'hint muted', id: `${id}-hint` }, hint) : null;
  const error = h('p', { class: 'error', id: `${id}-error`, 'data-error-for': input.name, 'aria-live': 'polite' });
  input.setAttribute('aria-describedby', [hintEl?.id, error.id].filter(Boolean).join(' '));
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl, error);
}

/** The form-wide error line, for what no single field explains. */
export function formError(): HTMLElement {
  return h('p', { class: 'error', 'data-error-for': '', role: 'alert' });
}

export function clearErrors(form: HTMLElement): void {
  form.querySelectorAll<HTMLElement>('[data-error-for]').forEach((el) => (el.textContent = ''));
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
}

/**
 * Shows an API error next to the field it names: the field of a validation detail (`/body/password`), the field a
 * known error code is about (`codeFields`), or a field the message names; otherwise on the form's own error line.
 */
export function showError(form: HTMLElement, err: unknown, codeFields: Record<string, string> = {}): void {
  clearErrors(form);
  const slot = (name: string) => form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(name)}"]`);
  const mark = (name: string, message: string) => {
    const target = name ? slot(name) : null;
    if (!target) return false;
    target.textContent = message;
    form.querySelector(`[name="${CSS.escape(name)}"]`)?.setAttribute('aria-invalid', 'true');
    return true;
  };
  const fallback = (message: string) => {
    const line = slot('');
    if (line) line.textContent = message;
    else toast(message, 'error');
  };
  if (!(err instanceof ApiError)) return fallback('Could not reach the server. Try again.');
  // Validation answers list their fields; other answers may name the one field they are about.
  const details = (Array.isArray(err.details) ? err.details : err.details ? [err.details] : []) as {
    field?: string;
    message?: string;
  }[];
  let shown = false;
  for (const detail of details) {
    const name = detail.field?.split('/').pop() ?? '';
    const message = detail.message ? `${labelOf(form, name) ?? name} ${detail.message}` : err.message;
    if (mark(name, message)) shown = true;
  }
  if (shown) return;
  const named = codeFields[err.code] ?? fieldNamedIn(form, err.message);
  if (!named || !mark(named, err.message)) fallback(err.message);
}

/** The text of a field's label, to begin a validation message with. */
function labelOf(form: HTMLElement, name: string): string | undefined {
  const input = name ? form.querySelector(`[name="${CSS.escape(name)}"]`) : null;
  const label = input?.id ? form.querySelector(`label[for="${CSS.escape(input.id)}"]`) : null;
  return label?.textContent ?? undefined;
}

function fieldNamedIn(form: HTMLElement, message: string): string | undefined {
  const names = Array.from(form.querySelectorAll<HTMLElement>('[data-error-for]')).map(
    (el) => el.dataset.errorFor ?? '',
  );
  return names.find((name) => name && new RegExp(`\\b${name}\\b`, 'i').test(message));
}

/** Runs a form's submission with its submit button disabled, showing any API error next to its field. */
export function onSubmit(
  form: HTMLFormElement,
  submit: () => Promise<void>,
  codeFields: Record<string, string> = {},
): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const buttons = Array.from(form.querySelectorAll<HTMLButtonElement>('button'));
    for (const button of buttons) button.disabled = true;
    submit()
      .catch((err: unknown) => showError(form, err, codeFields))
      .finally(() => {
        for (const button of buttons) button.disabled = false;
      });
  });
}

const input = (attrs: Record<string, string | number | boolean>) => h('input', { required: true, ...attrs });
/** A password field; a new password is held to the rule in the browser too, a current one is just sent. */
const passwordInput = (autocomplete: 'current-password' | 'new-password') =>
  input({
    type: 'password',
    name: 'password',
    autocomplete,
    ...(autocomplete === 'new-password' ? { minlength: PASSWORD_RULE.min, maxlength: PASSWORD_RULE.max } : {}),
  });

/**
 * Shows the log-in forms until a session of one of `roles` exists, then resolves with its user: email and password,
 * a sign-up form when `signUp` is set, and an API token under "Advanced". Whatever is sent, from then on a signed
 * httpOnly cookie carries the session.
 */
export async function loginGate(
  roles: Role[],
  root: HTMLElement,
  opts: { signUp?: boolean } = {},
): Promise<SessionUser> {
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
    const container = h('div', { class: 'login', id: 'login' });
    /** A session came back: this page's role goes on, another role is pointed to its own page. */
    const signedIn = (form: HTMLElement, user: SessionUser) => {
      if (!roles.includes(user.role)) {
        const line = form.querySelector<HTMLElement>('[data-error-for=""]');
        line?.replaceChildren(
          `You are signed in as a ${user.role}; this page is for ${roles.join(' or ')} accounts. `,
          h('a', { href: PAGE_OF_ROLE[user.role] }, `Go to the ${user.role} page`),
        );
        return;
      }
      container.remove();
      showUser(user);
      resolve(user);
    };

    const email = input({ type: 'email', name: 'email', autocomplete: 'email', inputmode: 'email' });
    const password = passwordInput('current-password');
    const login = h(
      'form',
      { class: 'card', id: 'password-login' },
      h('h2', {}, 'Log in'),
      h('p', { class: 'muted' }, `This page is for ${roles.join(' or ')} accounts.`),
      field('Email', email),
      field('Password', password),
      formError(),
      h('button', { type: 'submit', class: 'primary block' }, 'Log in'),
    );
    onSubmit(
      login,
      async () => {
        const { user } = await api<{ user: SessionUser }>('POST', '/v1/session', {
          email: email.value.trim(),
          password: password.value,
        });
        signedIn(login, user);
      },
      { invalid_credentials: 'password' },
    );

    const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true });
    const tokenForm = h(
      'form',
      { id: 'token-login' },
      field('API token', token),
      formError(),
      h('button', { type: 'submit', class: 'block' }, 'Log in with the token'),
    );
    onSubmit(
      tokenForm,
      async () => {
        try {
          const { user } = await api<{ user: SessionUser }>('POST', '/v1/session', { token: token.value.trim() });
          signedIn(tokenForm, user);
        } catch (err) {
          throw err instanceof ApiError && err.statusCode === 401
            ? new ApiError(401, err.code, 'Unknown token.', undefined)
            : err;
        }
      },
      { unauthorized: 'token', invalid_credentials: 'token' },
    );
    const advanced = h(
      'details',
      { class: 'card advanced' },
      h('summary', {}, 'Advanced: log in with an API token'),
      tokenForm,
    );

    if (opts.signUp) {
      const signUp = signUpForm((user) => signedIn(signUp, user));
      const toSignUp = h('button', { type: 'button', class: 'link' }, 'New here? Create an account');
      const toLogin = h('button', { type: 'button', class: 'link' }, 'Already have an account? Log in');
      const show = (which: 'login' | 'signup') => {
        login.hidden = which !== 'login';
        toSignUp.hidden = which !== 'login';
        signUp.hidden = which !== 'signup';
        toLogin.hidden = which !== 'signup';
        (which === 'login' ? email : signUp.querySelector('input'))?.focus();
      };
      toSignUp.addEventListener('click', () => show('signup'));
      toLogin.addEventListener('click', () => show('login'));
      container.append(login, signUp, h('p', { class: 'switch' }, toSignUp, toLogin), advanced);
      root.replaceChildren(container);
      show('login');
    } else {
      container.append(login, advanced);
      root.replaceChildren(container);
      email.focus();
    }
  });
}

/** Name, email and a password: a new customer account, signed in at once. */
function signUpForm(done: (user: SessionUser) => void): HTMLFormElement {
  const name = input({ name: 'name', autocomplete: 'name', maxlength: 100 });
  const email = input({ type: 'email', name: 'email', autocomplete: 'email', inputmode: 'email' });
  const password = passwordInput('new-password');
  const form = h(
    'form',
    { class: 'card', id: 'sign-up' },
    h('h2', {}, 'Create an account'),
    field('Name', name),
    field('Email', email),
    field('Password', password, PASSWORD_RULE.text),
    formError(),
    h('button', { type: 'submit', class: 'primary block' }, 'Create account'),
  );
  onSubmit(
    form,
    async () => {
      const { user } = await api<{ user: SessionUser }>('POST', '/v1/accounts', {
        name: name.value.trim(),
        email: email.value.trim(),
        password: password.value,
      });
      done(user);
    },
    { email_taken: 'email' },
  );
  return form;
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

// The webhooks of one location on the owner's page: its endpoints and whether each is on (and why not), adding one
// (its signing secret shown once), sending a test event, rotating the secret, turning it off and on, removing it,
// and each endpoint's recent deliveries with their attempts, failures first, with a Retry for those not delivered.
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../src/domain/vocabulary.js';
import { ApiError, api, field, formError, h, onSubmit, toast } from './lib.js';

interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  enabled: boolean;
  disabledReason: 'owner' | 'gone' | 'failing' | null;
  disabledAt: string | null;
  previousSecretExpiresAt: string | null;
}

interface Attempt {
  at: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

interface Delivery {
  id: string;
  webhookId: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  occurredAt: string;
  nextAttemptAt: string | null;
  attempts: Attempt[];
}

const DISABLED_BECAUSE: Record<NonNullable<Endpoint['disabledReason']>, string> = {
  owner: 'Turned off',
  gone: 'Disabled: the receiver answered 410 Gone',
  failing: 'Disabled: deliveries kept failing for 24 hours',
};
const RECENT = 10;
const when = (iso: string) =>
  new Date(iso).toLocaleString([], {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
const isOrderEvent = (type: string) => type.startsWith('order.');

/** One location's webhooks card, read when it is made, after every change and whenever the tab comes back. */
export function webhooksSection(location: { id: string; name: string }): HTMLElement {
  const base = `/v1/locations/${location.id}/webhooks`;
  const list = h('ul', { class: 'list', 'data-list': 'webhooks' });
  const problem = formError();
  const secretBox = h('div', { class: 'webhook-secret', hidden: true, 'aria-live': 'polite' });

  const url = h('input', { type: 'url', name: 'url', required: true, placeholder: 'https://example.com/hooks' });
  const description = h('input', { type: 'text', name: 'description', maxlength: 200 });
  const boxes = WEBHOOK_EVENT_TYPES.map((type) =>
    h('input', { type: 'checkbox', name: 'events', value: type, checked: isOrderEvent(type) }),
  );
  const events = h(
    'fieldset',
    { class: 'webhook-events' },
    h('legend', {}, 'Events'),
    ...boxes.map((box) => h('label', { class: 'check' }, box, ` ${box.value}`)),
    h('p', { class: 'error', 'data-error-for': 'events', 'aria-live': 'polite' }),
  );
  const add = h(
    'form',
    { class: 'add-webhook' },
    h('h3', {}, 'Add an endpoint'),
    field('URL', url, 'Each event is POSTed here, signed by the Standard Webhooks spec.'),
    field('Description', description),
    events,
    formError(),
    h('button', { type: 'submit', class: 'primary block' }, 'Add endpoint'),
  );

  const section = h(
    'section',
    { class: 'card webhooks', 'data-location-id': location.id, 'aria-label': `Webhooks of ${location.name}` },
    h('h2', {}, `Webhooks · ${location.name}`),
    list,
    problem,
    secretBox,
    add,
  );

  const failed = (err: unknown, fallback: string) => {
    problem.textContent = err instanceof ApiError ? err.message : fallback;
  };

  /** Runs one change from a button; the list is read again either way, so it shows what really happened. */
  const act = async (button: HTMLButtonElement, work: () => Promise<unknown>, done?: string) => {
    button.disabled = true;
    problem.textContent = '';
    try {
      await work();
      if (done) toast(done);
    } catch (err) {
      failed(err, 'The request failed. Try again.');
    }
    button.disabled = false;
    await reload();
  };

  /** The signing secret, shown once when an endpoint is added or its secret rotated. */
  const showSecret = (endpoint: { url: string; secret: string }, rotated: boolean) => {
    const secret = h('input', {
      type: 'text',
      readonly: true,
      name: 'secret',
      value: endpoint.secret,
      'aria-label': `Signing secret for ${endpoint.url}`,
    });
    const copy = h('button', { type: 'button' }, 'Copy secret');
    copy.addEventListener('click', () => {
      secret.select();
      if (!navigator.clipboard) return toast('Select the secret and copy it', 'error');
      navigator.clipboard.writeText(endpoint.secret).then(
        () => toast('Secret copied'),
        () => toast('Select the secret and copy it', 'error'),
      );
    });
    secretBox.hidden = false;
    secretBox.replaceChildren(
      h(
        'p',
        {},
        `The signing secret for ${endpoint.url}. It is shown only now: keep it with the receiver.`,
        rotated ? ' The previous secret keeps signing beside it for 24 hours.' : '',
      ),
      h('div', { class: 'row copy' }, secret, copy),
    );
  };

  const attemptLine = (a: Attempt) =>
    `${when(a.at)} · ${a.statusCode ?? 'no answer'} · ${a.latencyMs} ms${a.error ? ` · ${a.error}` : ''}`;

  const deliveryItem = (endpoint: Endpoint, delivery: Delivery) => {
    const last = delivery.attempts.at(-1);
    const item = h(
      'li',
      { class: `delivery ${delivery.status}`, 'data-delivery-id': delivery.id, 'data-status': delivery.status },
      h(
        'span',
        { class: 'name' },
        delivery.type,
        h('br'),
        h(
          'span',
          { class: 'meta muted' },
          [
            when(delivery.occurredAt),
            `${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? '' : 's'}`,
            last ? `last: ${attemptLine(last)}` : 'not sent yet',
            delivery.nextAttemptAt ? `next ${when(delivery.nextAttemptAt)}` : '',
          ]
            .filter(Boolean)
            .join(' · '),
        ),
      ),
      h('span', { class: 'badge' }, delivery.status),
    );
    if (delivery.status !== 'delivered' && endpoint.enabled) {
      const retry = h('button', { type: 'button', 'data-action': 'retry' }, 'Retry');
      retry.addEventListener(
        'click',
        () =>
          void act(retry, () => api('POST', `${base}/${endpoint.id}/deliveries/${delivery.id}/retry`), 'Sent again'),
      );
      item.append(retry);
    }
    return item;
  };

  /** Failures first (given up, then still retrying), then the latest deliveries. */
  const deliveriesOf = async (endpoint: Endpoint): Promise<HTMLElement> => {
    const [given, recent] = await Promise.all([
      api<{ deliveries: Delivery[] }>('GET', `${base}/${endpoint.id}/deliveries?status=failed&limit=${RECENT}`),
      api<{ deliveries: Delivery[] }>('GET', `${base}/${endpoint.id}/deliveries?limit=${RECENT}`),
    ]);
    const retrying = recent.deliveries.filter((d) => d.status === 'pending' && d.attempts.length > 0);
    const shown = [...given.deliveries, ...retrying];
    const rest = recent.deliveries.filter((d) => !shown.some((s) => s.id === d.id));
    const all = [...shown, ...rest];
    return h(
      'ul',
      { class: 'list deliveries', 'data-list': 'deliveries' },
      ...(all.length === 0
        ? [h('li', { class: 'empty' }, 'Nothing sent yet.')]
        : all.map((d) => deliveryItem(endpoint, d))),
    );
  };

  const endpointItem = async (endpoint: Endpoint) => {
    const status = endpoint.enabled ? 'Enabled' : DISABLED_BECAUSE[endpoint.disabledReason ?? 'owner'];
    const button = (label: string, action: string) => h('button', { type: 'button', 'data-action': action }, label);
    const test = button('Send test event', 'test');
    test.disabled = !endpoint.enabled;
    test.addEventListener(
      'click',
      () => void act(test, () => api('POST', `${base}/${endpoint.id}/test`), 'Test event sent'),
    );
    const rotate = button('Rotate secret', 'rotate');
    rotate.addEventListener(
      'click',
      () =>
        void act(rotate, async () =>
          showSecret(await api<{ url: string; secret: string }>('POST', `${base}/${endpoint.id}/secret`), true),
        ),
    );
    const toggle = button(endpoint.enabled ? 'Disable' : 'Enable', endpoint.enabled ? 'disable' : 'enable');
    toggle.addEventListener(
      'click',
      () => void act(toggle, () => api('PATCH', `${base}/${endpoint.id}`, { enabled: !endpoint.enabled })),
    );
    const remove = button('Remove', 'remove');
    remove.addEventListener('click', () => void act(remove, () => api('DELETE', `${base}/${endpoint.id}`)));
    const deliveries = await deliveriesOf(endpoint).catch(() =>
      h('p', { class: 'error' }, 'Could not read the deliveries.'),
    );
    return h(
      'li',
      { class: 'webhook', 'data-webhook-id': endpoint.id, 'data-enabled': String(endpoint.enabled) },
      h(
        'span',
        { class: 'name' },
        endpoint.url,
        h('br'),
        h(
          'span',
          { class: 'meta muted' },
          [endpoint.description, `${endpoint.events.length} event types`, endpoint.events.slice(0, 4).join(', ')]
            .filter(Boolean)
            .join(' · '),
        ),
      ),
      h('span', { class: `badge${endpoint.enabled ? '' : ' warn'}`, 'data-status': 'endpoint' }, status),
      h('div', { class: 'row actions' }, test, rotate, toggle, remove),
      h('h4', {}, 'Recent deliveries'),
      deliveries,
    );
  };

  let reading: Promise<void> | undefined;
  const reload = () =>
    (reading ??= api<{ webhooks: Endpoint[] }>('GET', base)
      .then(async ({ webhooks }) => {
        list.replaceChildren(
          ...(webhooks.length === 0
            ? [h('li', { class: 'empty' }, 'No endpoints yet.')]
            : await Promise.all(webhooks.map(endpointItem))),
        );
      })
      .catch((err: unknown) => failed(err, 'Could not read the webhooks.'))
      .finally(() => {
        reading = undefined;
      }));

  onSubmit(add, async () => {
    const created = await api<{ url: string; secret: string }>('POST', base, {
      url: url.value.trim(),
      events: boxes.filter((b) => b.checked).map((b) => b.value),
      ...(description.value.trim() ? { description: description.value.trim() } : {}),
    });
    showSecret(created, false);
    add.reset();
    await reload();
  });

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && section.isConnected) void reload();
  });
  void reload();
  return section;
}

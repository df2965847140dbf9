// One location's kitchen integration on the owner's page: the address its kitchen or POS system sends signed messages
// to, whether a secret is set, and creating or rotating it (the new secret is shown once, to copy into that system).
import { ApiError, api, formError, h, toast } from './lib.js';

interface KitchenIntegration {
  configured: boolean;
  createdAt: string | null;
  previousExpiresAt: string | null;
  url: string;
}

interface KitchenSecret {
  secret: string;
  createdAt: string;
  previousExpiresAt: string | null;
  url: string;
}

const when = (iso: string) =>
  new Date(iso).toLocaleString([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** A read-only text with a button that copies it. */
function copyable(name: string, label: string, value: string): HTMLElement {
  const text = h('input', { type: 'text', readonly: true, name, value, 'aria-label': label });
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', () => {
    text.select();
    // The clipboard is there on https and localhost only; elsewhere the selected text is copied by hand.
    if (!navigator.clipboard) return toast('Select the text and copy it', 'error');
    navigator.clipboard.writeText(value).then(
      () => toast('Copied'),
      () => toast('Select the text and copy it', 'error'),
    );
  });
  return h('div', { class: 'row copy' }, text, copy);
}

/** One location's kitchen card, read when it is made and again after every change. */
export function kitchenSection(location: { id: string; name: string }): HTMLElement {
  const base = `/v1/locations/${location.id}/integrations/kitchen`;
  const state = h('p', { class: 'muted', 'data-kitchen-state': '' });
  const address = h('div', { class: 'kitchen-url' });
  const problem = formError();
  const shown = h('div', { class: 'kitchen-secret', hidden: true, 'aria-live': 'polite' });
  const rotate = h(
    'button',
    { type: 'button', class: 'primary block', 'data-action': 'kitchen-secret' },
    'Create secret',
  );

  const section = h(
    'section',
    { class: 'card kitchen', 'data-location-id': location.id, 'aria-label': `Kitchen system of ${location.name}` },
    h('h2', {}, `Kitchen system · ${location.name}`),
    h(
      'p',
      {},
      'A kitchen or POS system can mark orders prepping, prepped or collected by sending signed messages ' +
        '(Standard Webhooks) to this address:',
    ),
    address,
    state,
    problem,
    rotate,
    shown,
  );

  const render = (integration: KitchenIntegration) => {
    address.replaceChildren(copyable('kitchenUrl', `Kitchen address of ${location.name}`, integration.url));
    state.textContent = !integration.configured
      ? 'No secret yet: create one and enter it in the kitchen system.'
      : [
          `Secret created ${when(integration.createdAt!)}.`,
          integration.previousExpiresAt ? `The previous one works until ${when(integration.previousExpiresAt)}.` : '',
        ]
          .filter(Boolean)
          .join(' ');
    rotate.textContent = integration.configured ? 'Rotate secret' : 'Create secret';
  };

  let reading: Promise<void> | undefined;
  const reload = () =>
    (reading ??= api<KitchenIntegration>('GET', base)
      .then(render, (err: unknown) => {
        problem.textContent = err instanceof ApiError ? err.message : 'Could not read the kitchen integration.';
      })
      .finally(() => {
        reading = undefined;
      }));

  rotate.addEventListener('click', () => {
    void (async () => {
      rotate.disabled = true;
      problem.textContent = '';
      try {
        const created = await api<KitchenSecret>('POST', `${base}/secret`);
        shown.hidden = false;
        shown.replaceChildren(
          h(
            'p',
            {},
            'Enter this secret in the kitchen system now: it is shown only once.' +
              (created.previousExpiresAt
                ? ` The previous secret keeps working until ${when(created.previousExpiresAt)}.`
                : ''),
          ),
          copyable('kitchenSecret', `Kitchen secret of ${location.name}`, created.secret),
        );
      } catch (err) {
        problem.textContent = err instanceof ApiError ? err.message : 'The request failed. Try again.';
      } finally {
        rotate.disabled = false;
      }
      await reload();
    })();
  });

  void reload();
  return section;
}

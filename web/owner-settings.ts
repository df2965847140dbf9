// The location's settings, on the Staff tab: its name, delivery radius and opening hours, and how long a ready
// collection order waits and its number stays on the board.
import { api, h } from './lib.js';
import { labelled, serialised, submitting, type OwnerContext, type Section } from './owner-lib.js';

interface Settings {
  name: string;
  deliveryRadiusM: number;
  opensAt: string;
  closesAt: string;
}

interface CollectionTimes {
  collectionWindowMinutes: number;
  boardHoldMinutes: number;
}

export function settingsSection(ctx: OwnerContext, renamed: (name: string) => void): Section {
  const base = `/v1/locations/${ctx.location.id}`;
  const name = h('input', { name: 'name', required: true, maxlength: 200 });
  const radius = h('input', { type: 'number', name: 'deliveryRadiusM', min: 1, required: true, inputmode: 'numeric' });
  const opens = h('input', { type: 'time', name: 'opensAt', required: true });
  const closes = h('input', { type: 'time', name: 'closesAt', required: true });
  const waits = h('input', { type: 'number', name: 'collectionWindowMinutes', min: 1, max: 1440, required: true });
  const hold = h('input', { type: 'number', name: 'boardHoldMinutes', min: 1, max: 1440, required: true });
  let shown: Settings & CollectionTimes;

  const form = h(
    'form',
    { class: 'card', id: 'settings-form' },
    h('h2', {}, 'Settings'),
    labelled('Name', name),
    h(
      'div',
      { class: 'row' },
      labelled('Delivers within (m)', radius),
      labelled('Opens', opens),
      labelled('Closes', closes),
    ),
    h(
      'div',
      { class: 'row' },
      labelled('Ready orders wait (min)', waits),
      labelled('Numbers stay on the board (min)', hold),
    ),
    h('button', { type: 'submit', class: 'primary block' }, 'Save settings'),
  );

  const show = (settings: Settings & CollectionTimes) => {
    shown = settings;
    name.value = settings.name;
    radius.value = String(settings.deliveryRadiusM);
    opens.value = settings.opensAt;
    closes.value = settings.closesAt;
    waits.value = String(settings.collectionWindowMinutes);
    hold.value = String(settings.boardHoldMinutes);
  };

  submitting(form, async () => {
    const place: Partial<Settings> = {};
    if (name.value.trim() !== shown.name) place.name = name.value.trim();
    if (Number(radius.value) !== shown.deliveryRadiusM) place.deliveryRadiusM = Number(radius.value);
    if (opens.value !== shown.opensAt) place.opensAt = opens.value;
    if (closes.value !== shown.closesAt) place.closesAt = closes.value;
    const times: Partial<CollectionTimes> = {};
    if (Number(waits.value) !== shown.collectionWindowMinutes) times.collectionWindowMinutes = Number(waits.value);
    if (Number(hold.value) !== shown.boardHoldMinutes) times.boardHoldMinutes = Number(hold.value);
    const next = { ...shown };
    if (Object.keys(place).length > 0) Object.assign(next, await api<Settings>('PATCH', base, place));
    if (Object.keys(times).length > 0)
      Object.assign(next, await api<CollectionTimes>('PATCH', `${base}/collection`, times));
    show(next);
    if (next.name !== ctx.location.name) renamed(next.name);
  });

  const read = serialised(async () => {
    const [place, times] = await Promise.all([
      api<Settings>('GET', base),
      api<CollectionTimes>('GET', `${base}/collection`),
    ]);
    const editing = form.contains(document.activeElement);
    if (!editing) show({ ...place, ...times });
    if (place.name !== ctx.location.name) renamed(place.name);
  });
  read();
  return {
    el: form,
    update: ({ type }) => {
      if (type === 'location.changed' || type === 'snapshot') read();
    },
  };
}

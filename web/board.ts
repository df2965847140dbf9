// The public order board: keeps the ready and on-its-way numbers current from the board stream.
import type { BoardState } from '../src/domain/vocabulary.js';
import { $, follow, h } from './lib.js';

interface BoardOrder {
  number: string;
  state: BoardState;
}

const locationId = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const orders = new Map<string, BoardOrder['state']>();

function render(): void {
  const ready = [...orders].filter(([, state]) => state === 'ready').map(([number]) => number);
  const out = [...orders].filter(([, state]) => state === 'out_for_delivery').map(([number]) => number);
  $('#ready').replaceChildren(...ready.map((n) => h('li', { 'data-number': n }, n)));
  $('#out').replaceChildren(...out.map((n) => h('li', { 'data-number': n }, n)));
  $('#ready-empty').hidden = ready.length > 0;
  $('#out-empty').hidden = out.length > 0;
}

follow(`/v1/board/${encodeURIComponent(locationId)}/events`, {
  snapshot(data) {
    const snapshot = data as { location: { name: string }; orders: BoardOrder[] };
    $('#title').textContent = `${snapshot.location.name} · Orders`;
    document.title = `${snapshot.location.name} · Order board`;
    orders.clear();
    for (const order of snapshot.orders) orders.set(order.number, order.state);
    render();
  },
  board(data) {
    const order = data as BoardOrder;
    if (order.state === 'done') orders.delete(order.number);
    else orders.set(order.number, order.state);
    render();
  },
});
render();

// The public order board: keeps the preparing, ready-for-collection and on-its-way numbers current from the board stream.
import type { BoardState } from '../src/domain/vocabulary.js';
import { $, follow, h } from './lib.js';

interface BoardOrder {
  number: string;
  state: BoardState;
}

const locationId = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const orders = new Map<string, BoardOrder['state']>();

/** Each column of the board: the list and its empty note, by the board state it shows. */
const COLUMNS: [state: BoardState, list: string][] = [
  ['preparing', 'preparing'],
  ['ready', 'ready'],
  ['out_for_delivery', 'out'],
];

function render(): void {
  for (const [shown, list] of COLUMNS) {
    const numbers = [...orders].filter(([, state]) => state === shown).map(([number]) => number);
    $(`#${list}`).replaceChildren(...numbers.map((n) => h('li', { 'data-number': n }, n)));
    $(`#${list}-empty`).hidden = numbers.length > 0;
  }
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

// Examples of collection orders: handing one over at the counter, and counter orders paid there.
import { CROISSANT, LOCATION, ORDER, RYE, SLOT, order, type OperationExamples } from './examples-shared.js';

const collection = { ...order, fulfilment: 'collection', address: null };

const counterOrder = {
  ...collection,
  customerId: null,
  slotId: null,
  label: 'Sam',
  status: 'confirmed',
  timeline: [
    { id: 1041, type: 'order.placed', status: 'placed', reason: null, at: '2025-03-14T11:02:07.130Z' },
    { id: 1042, type: 'order.status', status: 'confirmed', reason: null, at: '2025-03-14T11:02:07.470Z' },
  ],
};

export const COLLECTION_EXAMPLES: Record<string, OperationExamples> = {
  'POST /v1/orders/{id}/collect': {
    responses: {
      200: {
        ...collection,
        status: 'completed',
        collectBy: '2025-03-14T13:00:00.000Z',
        timeline: [
          ...order.timeline,
          { id: 1050, type: 'order.status', status: 'confirmed', reason: null, at: '2025-03-14T11:02:08.015Z' },
          { id: 1063, type: 'order.status', status: 'prepping', reason: null, at: '2025-03-14T11:20:11.402Z' },
          { id: 1071, type: 'order.status', status: 'prepped', reason: null, at: '2025-03-14T11:41:52.118Z' },
          {
            id: 1072,
            type: 'order.status',
            status: 'ready_for_collection',
            reason: null,
            at: '2025-03-14T11:41:52.160Z',
          },
          { id: 1090, type: 'order.status', status: 'completed', reason: null, at: '2025-03-14T12:05:31.907Z' },
        ],
      },
      409: {
        error: 'invalid_transition',
        message: 'Only a collection order can be collected; this one is for delivery',
      },
    },
  },
  'POST /v1/locations/{id}/counter-orders': {
    body: {
      items: [
        { productId: CROISSANT, quantity: 2 },
        { productId: RYE, quantity: 1 },
      ],
      label: 'Sam',
    },
    responses: {
      201: counterOrder,
      409: { error: 'out_of_stock', message: 'The order was refused: out_of_stock', details: { orderId: ORDER } },
      422: { error: 'unknown_slot', message: `Slot ${SLOT} is not a slot of location ${LOCATION}` },
    },
  },
};

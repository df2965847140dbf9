// The durable event log's vocabulary: stream names and the shape of a recorded event. Every change a live view shows is
// appended to the log in the same transaction as the change, then announced with NOTIFY (src/db/repositories/events.ts).
import type { EventType } from '../domain/vocabulary.js';

/** The NOTIFY channel that announces each committed event. */
export const EVENTS_CHANNEL = 'events';

export interface EventRecord {
  id: number;
  stream: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: string;
  /** The trace the event was appended in, when it was traced. */
  traceparent?: string;
}

export type { EventType };

export const streams = {
  order: (orderId: string) => `order:${orderId}`,
  location: (locationId: string) => `location:${locationId}`,
  driver: (driverId: string) => `driver:${driverId}`,
  /** The catalogue is shared by every location, so its changes have one stream of their own. */
  catalog: () => 'catalog',
};

// Outgoing webhooks as rules: which webhook type an event of the log is, which deliveries must keep their order, when
// a failed delivery is tried again, and which addresses a receiver may not have.
import ipaddr from 'ipaddr.js';
import {
  DELIVERY_STATUSES,
  ORDER_STATUSES,
  WEBHOOK_EVENT_TYPES,
  type EventType,
  type WebhookEventType,
} from './vocabulary.js';

const isOneOf = <T extends string>(list: readonly T[], value: unknown): value is T =>
  typeof value === 'string' && (list as readonly string[]).includes(value);

/**
 * The webhook type of an event of the log, or null for one no endpoint can subscribe to. Status events name their
 * status, so a receiver subscribes to `order.completed` without reading every change.
 */
export function webhookTypeOf(type: EventType, payload: Record<string, unknown>): WebhookEventType | null {
  switch (type) {
    case 'order.placed':
      return 'order.placed';
    case 'order.status':
      return isOneOf(ORDER_STATUSES, payload.status) ? `order.${payload.status}` : null;
    case 'order.board':
      return 'order.left_board';
    case 'delivery.status':
      return isOneOf(DELIVERY_STATUSES, payload.deliveryStatus) ? `delivery.${payload.deliveryStatus}` : null;
    case 'slot.capacity':
      // A slot announces its status change and every capacity change in the same event type; only the first is a
      // closing (a hold released after the cutoff announces the closed slot again).
      if (payload.statusChanged === true && (payload.status === 'closed' || payload.status === 'finished'))
        return `slot.${payload.status}`;
      return payload.status === 'open' ? 'slot.capacity' : null;
    case 'slot.opened':
    case 'stock.received':
    case 'stock.discounted':
    case 'stock.discarded':
    case 'stock.sold_out':
    case 'production.changed':
    case 'location.changed':
    case 'webhook.disabled':
      return type;
    default:
      return null;
  }
}

/**
 * Deliveries with the same key reach an endpoint in the order they were made: an order's (and its delivery's) events,
 * a slot's, a lot's. Events with nothing in common go on their own.
 */
export function orderingKeyOf(payload: Record<string, unknown>, eventId: number | string): string {
  return payloadOrderingKey(payload) ?? `event:${eventId}`;
}

/** The ordering key the payload names, or null when nothing in it does and the event goes on its own. */
export function payloadOrderingKey(payload: Record<string, unknown>): string | null {
  if (typeof payload.orderId === 'string') return `order:${payload.orderId}`;
  if (typeof payload.slotId === 'string') return `slot:${payload.slotId}`;
  if (typeof payload.lotId === 'number' || typeof payload.lotId === 'string') return `lot:${payload.lotId}`;
  if (typeof payload.endpointId === 'string') return `endpoint:${payload.endpointId}`;
  return null;
}

export const isWebhookEventType = (value: unknown): value is WebhookEventType => isOneOf(WEBHOOK_EVENT_TYPES, value);

export interface RetryPolicy {
  /** The wait after the first, second, … failure in a row; past the list, the last attempt is at the window's end. */
  scheduleMs: readonly number[];
  /** How long after its first failure a delivery is still tried; past it, the endpoint is disabled. */
  giveUpAfterMs: number;
}

/** 5 s, 1 min, 10 min, 1 h, 3 h, 6 h, 12 h, then a last attempt 24 h after the first failure. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  scheduleMs: [5_000, 60_000, 600_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000],
  giveUpAfterMs: 24 * 3_600_000,
};

/**
 * When to try a delivery again after its `failures`-th failure in a row (the first at `failingSince`), or null to give
 * up. Each wait is spread by ±20% (`random` in [0, 1)), so receivers coming back are not hit by every sender at once.
 */
export function nextAttemptAt(
  failures: number,
  failingSince: number,
  now: number,
  policy: RetryPolicy,
  random: number = Math.random(),
): number | null {
  const windowEnd = failingSince + policy.giveUpAfterMs;
  if (now >= windowEnd) return null;
  const wait = policy.scheduleMs[failures - 1];
  if (wait === undefined) return windowEnd;
  return Math.min(now + Math.round(wait * (0.8 + 0.4 * random)), windowEnd);
}

/** Address classes a receiver may not be in unless private networks are allowed: all but the public internet. */
export function blockedAddressClass(address: string): string | null {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  // Cloud metadata services sit in link-local (169.254.169.254, fe80::a9fe:a9fe), unique-local (fd00:ec2::254) and
  // carrier-grade NAT (100.100.100.200) space: refused with them.
  return range === 'unicast' ? null : range;
}

/** The host of a URL as an IP address literal, or null for a name. */
export function ipLiteral(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) && (bare.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(bare)) ? bare : null;
}

/**
 * Why a receiver URL cannot be used, naming the problem, or null when it can: https only (http too when private
 * networks are allowed), no credentials, and no address literal in a refused class. Names are resolved and checked
 * again at each delivery, since what they resolve to can change.
 */
export function webhookUrlProblem(raw: string, allowPrivateNetworks: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivateNetworks && url.protocol === 'http:'))
    return allowPrivateNetworks ? 'must use https or http' : 'must use https';
  if (url.username || url.password) return 'must not carry credentials; the signature authenticates each delivery';
  if (!url.hostname) return 'must name a host';
  const literal = ipLiteral(url.hostname);
  if (literal && !allowPrivateNetworks) {
    const blocked = blockedAddressClass(literal);
    if (blocked) return `must not point at a ${blocked} address`;
  }
  return null;
}

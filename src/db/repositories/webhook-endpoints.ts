// A location's webhook endpoints: the one writer of webhook_endpoints. Secrets are kept as issued, since the worker
// signs with them (they are HMAC keys, not passwords); only the owner who creates or rotates one ever sees it.
import type { Knex } from 'knex';
import type { WebhookDisabledReason, WebhookEventType } from '../../domain/vocabulary.js';
import { streams } from '../../events/log.js';
import { atomic } from '../knex.js';
import { appendEvent } from './events.js';

export interface WebhookEndpointView {
  id: string;
  locationId: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  enabled: boolean;
  disabledReason: WebhookDisabledReason | null;
  disabledAt: string | null;
  /** Until when the previous secret still signs beside the current one; null when there is none. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What the worker needs to send to an endpoint: where, and the secrets that sign. */
export interface WebhookTarget {
  id: string;
  locationId: string;
  url: string;
  enabled: boolean;
  /** The current secret first, then the previous one while it still signs. */
  secrets: string[];
}

interface EndpointRow {
  id: string;
  location_id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  enabled: boolean;
  disabled_reason: WebhookDisabledReason | null;
  disabled_at: Date | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toView = (r: EndpointRow): WebhookEndpointView => ({
  id: r.id,
  locationId: r.location_id,
  url: r.url,
  description: r.description,
  events: r.events,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  disabledAt: r.disabled_at?.toISOString() ?? null,
  previousSecretExpiresAt: r.previous_secret_expires_at?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** At most this many endpoints per location: every event is written once per endpoint. */
export const MAX_WEBHOOK_ENDPOINTS = 20;

export function createWebhookEndpointRepository(db: Knex) {
  return {
    async create(input: {
      locationId: string;
      url: string;
      events: readonly WebhookEventType[];
      description?: string;
      secret: string;
    }): Promise<WebhookEndpointView> {
      const [row] = await db('webhook_endpoints')
        .insert({
          location_id: input.locationId,
          url: input.url,
          events: [...new Set(input.events)],
          description: input.description ?? null,
          secret: input.secret,
        })
        .returning<EndpointRow[]>('*');
      return toView(row!);
    },

    async count(locationId: string): Promise<number> {
      const row = await db('webhook_endpoints')
        .where({ location_id: locationId })
        .count<{ count: string }>('* as count')
        .first();
      return Number(row?.count ?? 0);
    },

    async list(locationId: string): Promise<WebhookEndpointView[]> {
      const rows = await db('webhook_endpoints')
        .where({ location_id: locationId })
        .orderBy([{ column: 'created_at' }, { column: 'id' }])
        .select<EndpointRow[]>('*');
      return rows.map(toView);
    },

    async find(locationId: string, endpointId: string): Promise<WebhookEndpointView | undefined> {
      const row = await db('webhook_endpoints')
        .where({ id: endpointId, location_id: locationId })
        .first<EndpointRow | undefined>();
      return row && toView(row);
    },

    /**
     * Changes what the owner sent. Enabling clears why it was disabled; disabling records the owner as the reason.
     * Undefined when the location has no such endpoint.
     */
    async update(
      locationId: string,
      endpointId: string,
      patch: { url?: string; events?: readonly WebhookEventType[]; enabled?: boolean; description?: string | null },
    ): Promise<WebhookEndpointView | undefined> {
      const [row] = await db('webhook_endpoints')
        .where({ id: endpointId, location_id: locationId })
        .update({
          ...(patch.url === undefined ? {} : { url: patch.url }),
          ...(patch.events === undefined ? {} : { events: [...new Set(patch.events)] }),
          ...(patch.description === undefined ? {} : { description: patch.description }),
          ...(patch.enabled === undefined
            ? {}
            : patch.enabled
              ? { enabled: true, disabled_reason: null, disabled_at: null }
              : {
                  enabled: false,
                  disabled_reason: db.raw("CASE WHEN enabled THEN 'owner' ELSE disabled_reason END"),
                  disabled_at: db.raw('coalesce(disabled_at, now())'),
                }),
          updated_at: db.fn.now(),
        })
        .returning<EndpointRow[]>('*');
      return row && toView(row);
    },

    async remove(locationId: string, endpointId: string): Promise<boolean> {
      return (await db('webhook_endpoints').where({ id: endpointId, location_id: locationId }).delete()) > 0;
    },

    /** Puts a new secret in place; the current one keeps signing beside it until `overlapUntil`. */
    async rotateSecret(
      locationId: string,
      endpointId: string,
      secret: string,
      overlapUntil: Date,
    ): Promise<WebhookEndpointView | undefined> {
      const [row] = await db('webhook_endpoints')
        .where({ id: endpointId, location_id: locationId })
        .update({
          previous_secret: db.ref('secret'),
          previous_secret_expires_at: overlapUntil,
          secret,
          updated_at: db.fn.now(),
        })
        .returning<EndpointRow[]>('*');
      return row && toView(row);
    },

    /** Where and how to send, for the delivery activity; the previous secret only while it still signs at `now`. */
    async target(endpointId: string, now: number): Promise<WebhookTarget | undefined> {
      const row = await db('webhook_endpoints').where({ id: endpointId }).first<EndpointRow | undefined>();
      if (!row) return undefined;
      const previous =
        row.previous_secret && row.previous_secret_expires_at && row.previous_secret_expires_at.getTime() > now
          ? [row.previous_secret]
          : [];
      return {
        id: row.id,
        locationId: row.location_id,
        url: row.url,
        enabled: row.enabled,
        secrets: [row.secret, ...previous],
      };
    },

    /**
     * Stops sending to an endpoint that answered 410 or kept failing, and says so in the location's event log (which
     * the owner's page and the location's other endpoints hear). Once only: false when it was already disabled.
     */
    async disable(
      endpointId: string,
      reason: Exclude<WebhookDisabledReason, 'owner'>,
      detail: string,
    ): Promise<boolean> {
      return atomic(db, async (trx) => {
        const [row] = await trx('webhook_endpoints')
          .where({ id: endpointId, enabled: true })
          .update({ enabled: false, disabled_reason: reason, disabled_at: trx.fn.now(), updated_at: trx.fn.now() })
          .returning<EndpointRow[]>('*');
        if (!row) return false;
        await appendEvent(trx, streams.location(row.location_id), 'webhook.disabled', {
          endpointId,
          url: row.url,
          reason,
          detail,
        });
        return true;
      });
    },
  };
}

export type WebhookEndpointRepository = ReturnType<typeof createWebhookEndpointRepository>;

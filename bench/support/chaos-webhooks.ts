// Chaos's webhook endpoint: a receiver process on loopback subscribed to every order and delivery event of the chaos
// location, killed (SIGKILL) and restarted mid-run like the worker. Afterwards every event of every order must have
// reached it, each order's in the order they happened: the summary counts expected, delivered, lost and out of order.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { DELIVERY_STATUSES, ORDER_STATUSES } from '../../src/domain/vocabulary.js';
import { freePort } from '../../src/dev/ports.js';
import { spawnTs, type TsChild } from '../../src/dev/processes.js';
import { readReceiverLog } from './webhook-receiver.js';

export interface ChaosWebhookSummary {
  expected: number;
  delivered: number;
  lost: number;
  out_of_order: number;
  /** Deliveries seen again with the same webhook-id: allowed (at least once), counted for the record. */
  duplicates: number;
  receiver_kills: number;
  problems: string[];
}

const entry = fileURLToPath(new URL('./webhook-receiver.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The webhook type each event of an order's own stream is sent as. */
function webhookType(type: string, payload: Record<string, string>): string | undefined {
  if (type === 'order.placed') return 'order.placed';
  if (type === 'order.status') return `order.${payload.status}`;
  if (type === 'delivery.status') return `delivery.${payload.deliveryStatus}`;
  return undefined;
}

export async function startChaosWebhooks(opts: {
  api: string;
  ownerToken: string;
  locationId: string;
  dir: string;
  env: NodeJS.ProcessEnv;
}) {
  const port = await freePort();
  const file = path.join(opts.dir, 'webhook-receiver.jsonl');
  const created = await fetch(`${opts.api}/v1/locations/${opts.locationId}/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      url: `http://127.0.0.1:${port}/hooks`,
      events: [
        'order.placed',
        ...ORDER_STATUSES.map((s) => `order.${s}`),
        ...DELIVERY_STATUSES.map((s) => `delivery.${s}`),
      ],
      description: 'Chaos receiver',
    }),
  });
  const endpoint = (await created.json()) as { id: string; secret: string };
  if (created.status !== 201) throw new Error(`could not add the chaos endpoint: ${JSON.stringify(endpoint)}`);
  const spawn = () =>
    spawnTs('receiver', entry, {
      env: { ...opts.env, RECEIVER_PORT: String(port), RECEIVER_SECRETS: endpoint.secret, RECEIVER_LOG: file },
      logFile: path.join(opts.dir, 'receiver.log'),
    });
  let receiver: TsChild = spawn();
  await receiver.ready(60_000);
  let kills = 0;

  return {
    endpointId: endpoint.id,
    /** Kills the receiver outright and starts it again on the same port after `downMs`. */
    async killAndRestart(downMs: number): Promise<void> {
      process.kill(-receiver.process.pid!, 'SIGKILL');
      await receiver.exited;
      kills++;
      await sleep(downMs);
      receiver = spawn();
      await receiver.ready(60_000);
    },

    /** Waits until every event of these orders reached the receiver (or the deadline), then judges what it got. */
    async check(db: Knex, orderIds: string[], deadline: number): Promise<ChaosWebhookSummary> {
      const rows = await db('events')
        .whereIn(
          'stream',
          orderIds.map((id) => `order:${id}`),
        )
        .orderBy('id')
        .select<{ stream: string; type: string; payload: Record<string, string> }[]>('stream', 'type', 'payload');
      const expected = new Map<string, string[]>(orderIds.map((id) => [id, []]));
      for (const row of rows) {
        const type = webhookType(row.type, row.payload);
        if (type) expected.get(row.stream.slice('order:'.length))!.push(type);
      }
      const total = [...expected.values()].reduce((n, list) => n + list.length, 0);
      const unique = () => new Set(readReceiverLog(file).map((d) => d.webhookId)).size;
      while (unique() < total && Date.now() < deadline) await sleep(500);

      const seen = new Set<string>();
      const byOrder = new Map<string, { type: string; eventId: number }[]>();
      let duplicates = 0;
      for (const d of readReceiverLog(file)) {
        if (seen.has(d.webhookId)) {
          duplicates++;
          continue;
        }
        seen.add(d.webhookId);
        const list = byOrder.get(String(d.body.data.orderId)) ?? [];
        list.push({ type: d.body.type, eventId: Number(d.webhookId.replace(/^msg_/, '')) });
        byOrder.set(String(d.body.data.orderId), list);
      }
      const problems: string[] = [];
      let lost = 0;
      let outOfOrder = 0;
      let delivered = 0;
      for (const [orderId, types] of expected) {
        const got = byOrder.get(orderId) ?? [];
        const remaining = got.map((g) => g.type);
        for (const type of types) {
          const at = remaining.indexOf(type);
          if (at < 0) {
            lost++;
            problems.push(`webhook: ${type} of ${orderId} never reached the receiver`);
          } else {
            delivered++;
            remaining.splice(at, 1);
          }
        }
        for (let k = 1; k < got.length; k++) {
          if (got[k]!.eventId < got[k - 1]!.eventId) {
            outOfOrder++;
            problems.push(`webhook: ${got[k]!.type} of ${orderId} arrived after ${got[k - 1]!.type}`);
          }
        }
      }
      return {
        expected: total,
        delivered,
        lost,
        out_of_order: outOfOrder,
        duplicates,
        receiver_kills: kills,
        problems,
      };
    },

    stop: () => receiver.stop(),
  };
}

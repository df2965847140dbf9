// A webhook receiver on loopback that verifies every delivery with the standardwebhooks library and records what it
// accepted, as a partner's server would. It runs in the bench's process (stopped and started again on the same port
// to play an outage), or as a process of its own (`tsx bench/support/webhook-receiver.ts`) that chaos kills: then each
// accepted delivery is appended to a file before the 2xx is sent, so a kill can only cause a resend, never a loss.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';

export interface ReceivedDelivery {
  webhookId: string;
  /** The parsed body: `{ id, type, occurredAt, data }`. */
  body: { id: string; type: string; occurredAt: string; data: Record<string, unknown> };
  /** When the receiver accepted it (ms since the epoch), just before answering 2xx. */
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedDelivery[];
  /** Deliveries whose signature did not verify: must stay 0. */
  refused: number;
  /** The signing secrets to accept; until one is set every delivery is answered 503, so it is sent again later. */
  setSecrets(secrets: string[]): void;
  /** Closes the port and drops open connections, as a crashed server would. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** Verifies against each secret in turn; returns the parsed body or undefined. */
function verified(secrets: readonly string[], raw: string, headers: http.IncomingHttpHeaders) {
  const plain = Object.fromEntries(
    ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(headers[h] ?? '')]),
  );
  for (const secret of secrets) {
    try {
      return new Webhook(secret).verify(raw, plain) as ReceivedDelivery['body'];
    } catch {
      // try the next secret
    }
  }
  return undefined;
}

export async function startWebhookReceiver(
  opts: { port?: number; secrets?: string[]; onDelivery?: (d: ReceivedDelivery) => void } = {},
): Promise<WebhookReceiver> {
  let secrets = opts.secrets ?? [];
  const receiver: WebhookReceiver = {
    url: '',
    port: opts.port ?? 0,
    received: [],
    refused: 0,
    setSecrets: (next) => {
      secrets = next;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    start: () => listen(),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (secrets.length === 0) return void res.writeHead(503).end();
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = verified(secrets, raw, req.headers);
      if (!body) {
        receiver.refused++;
        return void res.writeHead(401).end();
      }
      const delivery = { webhookId: String(req.headers['webhook-id']), body, receivedAt: Date.now() };
      receiver.received.push(delivery);
      opts.onDelivery?.(delivery);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 5_000;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(receiver.port, '127.0.0.1', () => {
        server.off('error', reject);
        receiver.port = (server.address() as { port: number }).port;
        receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
        resolve();
      });
    });
  await listen();
  return receiver;
}

/** Reads what a receiver process appended: one delivery per line (a line cut short by a kill is skipped). */
export function readReceiverLog(file: string): ReceivedDelivery[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return line ? [JSON.parse(line) as ReceivedDelivery] : [];
      } catch {
        return [];
      }
    });
}

// As a process of its own: RECEIVER_PORT, RECEIVER_SECRETS (comma-separated) and RECEIVER_LOG (the file to append to).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.env.RECEIVER_LOG!;
  const receiver = await startWebhookReceiver({
    port: Number(process.env.RECEIVER_PORT),
    secrets: (process.env.RECEIVER_SECRETS ?? '').split(',').filter(Boolean),
    // Written before the answer: if the process dies between the two, the sender sends it again.
    onDelivery: (delivery) => fs.appendFileSync(file, `${JSON.stringify(delivery)}\n`),
  });
  console.log(JSON.stringify({ ready: true, port: receiver.port }));
}

// One signed POST to a receiver, by the Standard Webhooks spec: webhook-id, webhook-timestamp and webhook-signature
// (every signing secret's signature, space-separated, while a rotated-out one still signs). Unless private networks
// are allowed, the receiver's name is resolved here and refused when any address is not public, and the connection
// goes to the address that was checked, so a second lookup cannot point it elsewhere. Redirects are never followed.
import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { blockedAddressClass, ipLiteral } from '../domain/webhooks.js';

export interface WebhookMessage {
  /** The webhook-id header: the same for every attempt at one message. */
  id: string;
  timestamp: Date;
  body: string;
}

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

export class RefusedDestination extends Error {}

/** The addresses `hostname` stands for, refused when any is outside the public internet. */
export async function checkedAddress(hostname: string): Promise<{ address: string; family: 4 | 6 }> {
  const literal = ipLiteral(hostname);
  const addresses = literal
    ? [{ address: literal, family: literal.includes(':') ? 6 : 4 }]
    : await dns.lookup(hostname, { all: true, verbatim: true }).catch((error: NodeJS.ErrnoException) => {
        throw new RefusedDestination(`${hostname} does not resolve (${error.code ?? error.message})`);
      });
  if (addresses.length === 0) throw new RefusedDestination(`${hostname} does not resolve`);
  for (const { address } of addresses) {
    const blocked = blockedAddressClass(address);
    if (blocked) throw new RefusedDestination(`refused: ${hostname} resolves to ${address}, a ${blocked} address`);
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** Signs `message` with each secret; the header carries them all, so a receiver holding either verifies. */
export function signatures(secrets: readonly string[], message: WebhookMessage): string {
  return secrets.map((secret) => new Webhook(secret).sign(message.id, message.timestamp, message.body)).join(' ');
}

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

export async function sendWebhook(
  target: { url: string; secrets: readonly string[] },
  message: WebhookMessage,
  opts: { timeoutMs: number; allowPrivateNetworks: boolean },
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(target.url);
  let lookup: LookupFunction | undefined;
  if (!opts.allowPrivateNetworks) {
    if (url.protocol !== 'https:') return { statusCode: null, latencyMs: 0, error: 'refused: only https receivers' };
    try {
      const pinned = await checkedAddress(url.hostname);
      lookup = (_hostname, options, callback) => {
        if ((options as { all?: boolean }).all) callback(null, [pinned]);
        else callback(null, pinned.address, pinned.family);
      };
    } catch (error) {
      if (error instanceof RefusedDestination) return { statusCode: null, latencyMs: elapsed(), error: error.message };
      throw error;
    }
  }
  const secure = url.protocol === 'https:';
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const settle = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latencyMs: elapsed() });
    };
    const request = (secure ? https : http).request(url, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      ...(lookup ? { lookup } : {}),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'food-ordering-webhooks/1',
        'webhook-id': message.id,
        'webhook-timestamp': String(Math.floor(message.timestamp.getTime() / 1000)),
        'webhook-signature': signatures(target.secrets, message),
      },
    });
    const timer = setTimeout(() => {
      settle({ statusCode: null, error: `no answer within ${opts.timeoutMs} ms` });
      request.destroy();
    }, opts.timeoutMs);
    request.on('response', (response) => {
      // The body is not read for meaning; it is drained so the connection can be reused.
      response.resume();
      const statusCode = response.statusCode ?? null;
      settle({
        statusCode,
        error: statusCode !== null && statusCode >= 200 && statusCode < 300 ? null : `answered ${statusCode}`,
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      settle({ statusCode: null, error: error.code ?? error.message }),
    );
    request.end(message.body);
  });
}

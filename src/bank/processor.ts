// The bank's background loop: decides charges whose delay has passed and delivers the webhook outbox, all from the
// database so a restart loses nothing. It sleeps until the next decision or delivery attempt falls due, as the
// database says, and a new charge or void wakes it at once; the idle interval only bounds how late it notices work
// that another bank process scheduled.
import { SpanKind } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import { currentTraceparent, inContinuedSpan, outsideTraces } from '../telemetry/context.js';
import type { Ledger, OutboxDelivery } from './ledger.js';
import { signWebhook, SIGNATURE_HEADER } from './signature.js';

export interface ProcessorOptions {
  ledger: Ledger;
  /**
   * Where webhooks go: one URL, or several separated by commas (each replica of the API, where no load balancer stands
   * in front of them). Deliveries take turns across them, and one that cannot be reached or answers 5xx is tried at
   * the next before the attempt counts as failed.
   */
  webhookUrl: string;
  /** The bank signs with one secret; the receiver may accept several while it rotates. */
  webhookSecret: string;
  log: FastifyBaseLogger;
  /** The longest sleep between passes when nothing is due: how soon work another process scheduled is noticed. */
  pollIntervalMs?: number;
  /** First retry delay of a failed delivery; it doubles per attempt up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  deliveryTimeoutMs?: number;
}

export interface BankProcessor {
  start(): void;
  /** Stops the loop and waits for the pass in progress. */
  stop(): Promise<void>;
  /** Runs a pass now instead of when the next work falls due, e.g. right after a new charge. */
  wake(): void;
  /**
   * Remembers the trace of the request that changed a charge (while tracing is on), so the webhook announcing the
   * change continues it. Only in memory: after a restart a webhook starts a trace of its own.
   */
  traceCharge(chargeId: string): void;
  /** One pass: every due decision, then one batch of due deliveries, and when the next work falls due. */
  runOnce(): Promise<{ decided: number; delivered: number; failed: number; nextDueInMs: number | null }>;
}

const MAX_DECISIONS_PER_PASS = 200;
const DELIVERIES_PER_PASS = 20;
/** Charges whose trace is remembered; the oldest is forgotten first. */
const TRACED_CHARGES = 10_000;

export function createBankProcessor(opts: ProcessorOptions): BankProcessor {
  const pollIntervalMs = opts.pollIntervalMs ?? 1_000;
  const retryBaseMs = opts.retryBaseMs ?? 1_000;
  const retryMaxMs = opts.retryMaxMs ?? 5 * 60_000;
  // Short enough that a draining bank (10 s grace) finishes the attempts in flight.
  const deliveryTimeoutMs = opts.deliveryTimeoutMs ?? 5_000;
  const webhookUrls = opts.webhookUrl
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  if (webhookUrls.length === 0) throw new Error('The bank needs a webhook URL');
  // Longer than one delivery can take (every URL tried), so a claimed event is not claimed twice while in flight.
  const leaseMs = deliveryTimeoutMs * (webhookUrls.length + 2);
  let turn = 0;
  const { ledger, log } = opts;

  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> | undefined;
  let wakeRequested = false;

  function retryDelay(attempts: number): number {
    const exponential = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempts - 1, 30));
    // Jitter spreads retries out after an outage, so the receiver is not hit by all of them at once.
    return Math.round(exponential * (0.5 + Math.random() * 0.5));
  }

  const chargeTraces = new Map<string, string>();

  function deliver(delivery: OutboxDelivery): Promise<boolean> {
    return inContinuedSpan(
      `bank webhook ${delivery.event.type}`,
      chargeTraces.get(delivery.event.data.chargeId),
      {
        kind: SpanKind.PRODUCER,
        attributes: { 'bank.charge_id': delivery.event.data.chargeId, 'event.type': delivery.event.type },
      },
      () => send(delivery),
    );
  }

  /** Posts the signed body to the webhook URLs in turn until one takes it or refuses it (a 4xx); else the last error. */
  async function post(body: string, signature: string): Promise<{ ok: true } | { ok: false; error: string }> {
    const first = turn++ % webhookUrls.length;
    let error = '';
    for (let i = 0; i < webhookUrls.length; i++) {
      const url = webhookUrls[(first + i) % webhookUrls.length]!;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature, 'user-agent': 'demo-bank/1' },
          body,
          signal: AbortSignal.timeout(deliveryTimeoutMs),
        });
        // The body is not needed, but must be consumed to free the connection.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return { ok: true };
        error = `HTTP ${res.status}${webhookUrls.length > 1 ? ` from ${url}` : ''}`;
        // The receiver itself refused it: another replica of it would too.
        if (res.status < 500) break;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        error = webhookUrls.length > 1 ? `${url}: ${message}` : message;
      }
    }
    return { ok: false, error };
  }

  async function send(delivery: OutboxDelivery): Promise<boolean> {
    const body = JSON.stringify(delivery.event);
    // Signed at each attempt, so a retry after a long outage is not refused as stale.
    const signature = signWebhook(opts.webhookSecret, Math.floor(Date.now() / 1000), body);
    const posted = await post(body, signature);
    if (posted.ok) {
      await ledger.markDelivered(delivery.eventId);
      log.info(
        {
          eventId: delivery.eventId,
          type: delivery.event.type,
          reference: delivery.event.data.reference,
          chargeId: delivery.event.data.chargeId,
        },
        'webhook delivered',
      );
      return true;
    }
    const retryInMs = retryDelay(delivery.attempts);
    log.warn(
      {
        eventId: delivery.eventId,
        type: delivery.event.type,
        reference: delivery.event.data.reference,
        attempts: delivery.attempts,
        error: posted.error,
        retryInMs,
      },
      'webhook delivery failed; will retry',
    );
    await ledger.markDeliveryFailed(delivery.eventId, posted.error, retryInMs);
    return false;
  }

  async function runOnce() {
    let decided = 0;
    while (decided < MAX_DECISIONS_PER_PASS && (await ledger.decideNextDueCharge())) decided++;
    const due = await ledger.claimDueDeliveries(DELIVERIES_PER_PASS, leaseMs);
    const results = await Promise.all(
      due.map((delivery) =>
        deliver(delivery).catch((err: unknown) => {
          // Bookkeeping failed (the database is away): the lease runs out and the event is sent again.
          log.error({ err, eventId: delivery.eventId }, 'could not record a webhook delivery attempt');
          return false;
        }),
      ),
    );
    const delivered = results.filter(Boolean).length;
    return { decided, delivered, failed: results.length - delivered, nextDueInMs: await ledger.nextDueInMs() };
  }

  function schedule(delayMs: number): void {
    clearTimeout(timer);
    // A charge's request wakes the loop; the loop's passes are not part of that request's trace.
    timer = outsideTraces(() => setTimeout(() => void tick(), delayMs));
    timer.unref?.();
  }

  async function tick(): Promise<void> {
    if (!running || pass) return;
    wakeRequested = false;
    let next = pollIntervalMs;
    pass = runOnce().then(
      (result) => {
        // A full batch means more may be waiting: go again at once; otherwise sleep until the next work is due.
        const busy =
          result.decided >= MAX_DECISIONS_PER_PASS || result.delivered + result.failed >= DELIVERIES_PER_PASS;
        next = busy ? 0 : Math.min(pollIntervalMs, result.nextDueInMs ?? pollIntervalMs);
      },
      (err: unknown) => log.error({ err }, 'bank processing pass failed; retrying after the idle interval'),
    );
    await pass;
    pass = undefined;
    if (running) schedule(wakeRequested ? 0 : next);
  }

  return {
    start() {
      if (running) return;
      running = true;
      // The first pass runs at once: whatever fell due while the bank was down is handled on start.
      schedule(0);
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await pass;
    },
    wake() {
      if (!running) return;
      if (pass) wakeRequested = true;
      else schedule(0);
    },
    traceCharge(chargeId) {
      const traceparent = currentTraceparent();
      if (!traceparent) return;
      chargeTraces.delete(chargeId);
      chargeTraces.set(chargeId, traceparent);
      if (chargeTraces.size > TRACED_CHARGES) chargeTraces.delete(chargeTraces.keys().next().value!);
    },
    runOnce,
  };
}

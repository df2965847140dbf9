// One LISTEN connection per API process: turns committed events into in-order deliveries to the process's live subscribers.
import { SpanKind } from '@opentelemetry/api';
import type { Knex } from 'knex';
import type pg from 'pg';
import {
  createEventsListener,
  eventFromNotification,
  latestEventId,
  listenForEvents,
  readEventHeads,
  readEventsByIds,
} from '../db/repositories/events.js';
import { inContinuedSpan, outsideTraces } from '../telemetry/context.js';
import { activeTracing } from '../telemetry/tracing.js';
import { EVENTS_CHANNEL, type EventRecord } from './log.js';

export interface FanoutLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface EventSubscriber {
  onEvent(event: EventRecord): void;
  /** The fan-out can no longer promise this subscriber every event; it should end, so its client resumes from the table. */
  onLost(reason: string): void;
}

export interface EventSubscription {
  /**
   * Every event with an id at or below this is already in the table (or will never exist);
   * every event above it reaches the subscriber live. A resuming reader reads the table up to here.
   */
  readonly watermark: number;
  unsubscribe(): void;
}

export interface FanoutStats {
  connected: boolean;
  watermark: number;
  subscribers: number;
  streams: number;
  /** Holes in the id sequence given up on (rolled back, or a transaction slower than the grace). */
  skippedIds: number;
  /** Events that committed after their hole had been given up on, delivered out of order. */
  lateEvents: number;
}

export interface EventFanout {
  /** Connects the LISTEN connection if needed; resolves once the watermark is known. */
  ready(): Promise<void>;
  subscribe(streams: readonly string[], subscriber: EventSubscriber): EventSubscription;
  stats(): FanoutStats;
  close(): Promise<void>;
}

export interface FanoutOptions {
  /** Unset: live events are unavailable and ready() says so. */
  databaseUrl: string | undefined;
  /** Pool for reading event rows; the LISTEN connection is separate and never returned to a pool. */
  db: Knex;
  log?: FanoutLogger;
  /**
   * Ids come from a sequence, so a transaction can commit id 101 before another commits id 100.
   * Later events wait this long for a hole to fill before it is taken for a rollback.
   */
  gapGraceMs?: number;
  reconnectDelayMs?: number;
  /** How the LISTEN connection names itself in pg_stat_activity. */
  applicationName?: string;
}

const silent: FanoutLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
// Enough to recognise late commits of recently skipped ids; older skips are forgotten.
const MAX_REMEMBERED_SKIPS = 10_000;
const CATCH_UP_PAGE = 5_000;
const STARTUP_LOOKBACK = 1_000;

interface Subscriber extends EventSubscriber {
  streams: readonly string[];
  watermark: number;
}

/** A committed event heard of: its id and stream, and the event itself when its notification carried it whole. */
interface Heard {
  id: number;
  stream: string;
  event?: EventRecord;
}

export function createEventFanout(options: FanoutOptions): EventFanout {
  const { db } = options;
  const log = options.log ?? silent;
  const gapGraceMs = options.gapGraceMs ?? 1_000;
  const reconnectDelayMs = options.reconnectDelayMs ?? 1_000;

  const byStream = new Map<string, Set<Subscriber>>();
  let subscriberCount = 0;

  let client: pg.Client | undefined;
  let connected = false;
  let closed = false;
  let connecting: Promise<void> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;

  // Every id at or below the watermark is settled: delivered, or a hole given up on. -1 until first connected.
  let watermark = -1;
  /**
   * Ids above the watermark known to have committed, with their streams (and the event itself when its notification
   * carried it whole); they settle in id order.
   */
  const heard = new Map<number, Heard>();
  const skipped = new Set<number>();
  let skippedTotal = 0;
  let lateTotal = 0;
  let gapTimer: NodeJS.Timeout | undefined;
  // Deliveries run one after another so subscribers see ids in order.
  let deliveries: Promise<void> = Promise.resolve();

  function heardCommit(id: number, stream: string, event?: EventRecord): void {
    if (watermark >= 0 && id <= watermark) {
      if (skipped.delete(id)) {
        lateTotal += 1;
        log.warn({ eventId: id, stream }, 'event committed after its id was given up on; delivering it out of order');
        deliver([{ id, stream, event }], true);
      }
      // Otherwise heard twice (catch-up and NOTIFY): already delivered.
      return;
    }
    // Heard from the table after its notification (or the other way round): keep the event if either carried it.
    const known = heard.get(id)?.event;
    heard.set(id, { id, stream, event: event ?? known });
  }

  /** Moves the watermark over every contiguous settled id and delivers what it passed. */
  function advance(): void {
    const settled: Heard[] = [];
    for (let next = heard.get(watermark + 1); next !== undefined; next = heard.get(watermark + 1)) {
      heard.delete(watermark + 1);
      watermark += 1;
      settled.push(next);
    }
    if (settled.length > 0) deliver(settled, false);
    if (heard.size === 0) {
      clearTimeout(gapTimer);
      gapTimer = undefined;
    } else if (!gapTimer) {
      gapTimer = setTimeout(() => void giveUpOnHole(), gapGraceMs);
    }
  }

  /** Remembers missing ids in [from, to) so a late commit of one is recognised; only the newest are kept. */
  function remember(from: number, to: number): void {
    for (let id = Math.max(from, to - MAX_REMEMBERED_SKIPS); id < to; id++) skipped.add(id);
    while (skipped.size > MAX_REMEMBERED_SKIPS) skipped.delete(skipped.values().next().value!);
  }

  function lowestHeard(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const id of heard.keys()) if (id < lowest) lowest = id;
    return lowest;
  }

  /** The ids below the lowest heard one did not commit within the grace: a rollback, or a very slow transaction. */
  async function giveUpOnHole(): Promise<void> {
    gapTimer = undefined;
    if (heard.size === 0 || closed) return;
    if (!connected) {
      // Unheard commits during an outage are not holes; catch-up after reconnecting reads them.
      gapTimer = setTimeout(() => void giveUpOnHole(), gapGraceMs);
      return;
    }
    // A commit may have landed while its notification is still on the way; the table knows.
    try {
      for (const row of await readEventHeads(db, watermark, lowestHeard() - 1, CATCH_UP_PAGE))
        heardCommit(row.id, row.stream);
    } catch (err) {
      log.warn({ err }, 'could not check a hole in the event ids; skipping it');
    }
    if (closed) return;
    // Every id between the watermark and the lowest heard one is missing; jump over them.
    // (Notifications that arrived during the check may have closed the hole already.)
    const upTo = lowestHeard();
    if (Number.isFinite(upTo) && upTo > watermark + 1) {
      skippedTotal += upTo - watermark - 1;
      remember(watermark + 1, upTo);
      watermark = upTo - 1;
    }
    advance();
  }

  function deliver(events: Heard[], late: boolean): void {
    // Only events some subscriber here wants are delivered, so an idle replica reads nothing; an event its
    // notification carried whole is not read back at all.
    const wanted = events.filter((e) => byStream.has(e.stream));
    if (wanted.length === 0) return;
    const unread = wanted.filter((e) => e.event === undefined).map((e) => e.id);
    deliveries = deliveries.then(async () => {
      let rows: EventRecord[];
      try {
        const read = unread.length === 0 ? [] : await readEventsWithRetry(unread);
        const byId = new Map(read.map((r) => [r.id, r]));
        rows = wanted.flatMap((e) => e.event ?? byId.get(e.id) ?? []);
      } catch (err) {
        log.error({ err, eventIds: unread }, 'could not read events to deliver; ending the streams that needed them');
        const lost = new Set<Subscriber>();
        for (const e of events) for (const s of byStream.get(e.stream) ?? []) lost.add(s);
        for (const s of lost) s.onLost('events_unreadable');
        return;
      }
      for (const event of rows) {
        const send = () => {
          for (const subscriber of byStream.get(event.stream) ?? []) {
            // A subscriber that joined after this event settled has read it from the table already.
            if (late || event.id > subscriber.watermark) subscriber.onEvent(event);
          }
        };
        if (!event.traceparent || !activeTracing()) send();
        // The delivery continues the trace that appended the event, so an order's trace shows who saw it live.
        else
          await inContinuedSpan(
            `deliver ${event.type}`,
            event.traceparent,
            { kind: SpanKind.CONSUMER, attributes: { 'event.type': event.type, 'event.stream': event.stream } },
            send,
          );
      }
    });
  }

  async function readEventsWithRetry(ids: number[]): Promise<EventRecord[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await readEventsByIds(db, ids);
      } catch (err) {
        if (attempt >= 3 || closed) throw err;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  async function connect(): Promise<void> {
    const listener = createEventsListener(options.databaseUrl, options.applicationName ?? 'events-listener');
    listener.on('notification', (message) => {
      if (message.channel !== EVENTS_CHANNEL || !message.payload) return;
      let head: { id?: unknown; stream?: unknown; type?: unknown; payload?: unknown; createdAt?: unknown };
      try {
        head = JSON.parse(message.payload) as typeof head;
      } catch {
        return;
      }
      // A writer whose driver returns bigint ids as strings still announces a usable id.
      const id = typeof head.id === 'string' && /^\d{1,15}$/.test(head.id) ? Number(head.id) : head.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || typeof head.stream !== 'string') return;
      heardCommit(id, head.stream, eventFromNotification({ ...head, id, stream: head.stream }));
      if (connected) advance();
    });
    const lostConnection = (err?: Error) => {
      if (client !== listener) return;
      client = undefined;
      connected = false;
      listener.removeAllListeners('notification');
      void listener.end().catch(() => undefined);
      if (closed) return;
      log.warn({ err }, 'the events LISTEN connection was lost; reconnecting');
      scheduleReconnect();
    };
    listener.on('error', lostConnection);
    listener.on('end', () => lostConnection());
    try {
      await listener.connect();
      client = listener;
      // LISTEN before reading the table, so nothing can commit unheard between the two.
      await listenForEvents(listener);
      if (watermark < 0) {
        const latest = await latestEventId(db);
        // Ids below the latest that are not in the table may belong to transactions still in flight: remember them as late.
        const recent = new Set(
          (await readEventHeads(db, Math.max(0, latest - STARTUP_LOOKBACK), latest, STARTUP_LOOKBACK)).map((r) => r.id),
        );
        for (let id = Math.max(1, latest - STARTUP_LOOKBACK + 1); id <= latest; id++)
          if (!recent.has(id) && !heard.has(id)) skipped.add(id);
        for (const id of heard.keys()) if (id <= latest) heard.delete(id);
        watermark = latest;
      } else {
        // Back after an outage: whatever committed meanwhile is read from the table, in order.
        for (let page = await readEventHeads(db, watermark, Number.MAX_SAFE_INTEGER, CATCH_UP_PAGE); page.length > 0;) {
          for (const row of page) heardCommit(row.id, row.stream);
          advance();
          const last = page[page.length - 1]!.id;
          page =
            page.length < CATCH_UP_PAGE ? [] : await readEventHeads(db, last, Number.MAX_SAFE_INTEGER, CATCH_UP_PAGE);
        }
      }
      connected = true;
      advance();
    } catch (err) {
      if (client === listener) client = undefined;
      listener.removeAllListeners();
      listener.on('error', () => undefined);
      await listener.end().catch(() => undefined);
      throw err;
    }
  }

  function ensureConnecting(): Promise<void> {
    if (connecting) return connecting;
    clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    // The first live stream opens the connection; what it hears afterwards belongs to no request's trace.
    connecting = outsideTraces(connect).finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  function scheduleReconnect(): void {
    if (reconnectTimer || closed) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      ensureConnecting().catch((err: unknown) => {
        log.warn({ err }, 'reconnecting the events LISTEN connection failed; trying again');
        scheduleReconnect();
      });
    }, reconnectDelayMs);
    reconnectTimer.unref();
  }

  return {
    async ready() {
      if (closed) throw new Error('the event fan-out is closed');
      if (!options.databaseUrl) throw new Error('no database URL to LISTEN on');
      if (connected) return;
      await ensureConnecting();
      if (!connected) throw new Error('the events LISTEN connection is not up');
    },

    subscribe(streams, handlers) {
      if (!connected) throw new Error('subscribe after ready()');
      const subscriber: Subscriber = {
        streams: [...new Set(streams)],
        watermark,
        onEvent: handlers.onEvent,
        onLost: handlers.onLost,
      };
      for (const stream of subscriber.streams) {
        let set = byStream.get(stream);
        if (!set) byStream.set(stream, (set = new Set()));
        set.add(subscriber);
      }
      subscriberCount += 1;
      let active = true;
      return {
        watermark: subscriber.watermark,
        unsubscribe() {
          if (!active) return;
          active = false;
          subscriberCount -= 1;
          for (const stream of subscriber.streams) {
            const set = byStream.get(stream);
            set?.delete(subscriber);
            if (set?.size === 0) byStream.delete(stream);
          }
        },
      };
    },

    stats() {
      return {
        connected,
        watermark,
        subscribers: subscriberCount,
        streams: byStream.size,
        skippedIds: skippedTotal,
        lateEvents: lateTotal,
      };
    },

    async close() {
      closed = true;
      clearTimeout(gapTimer);
      clearTimeout(reconnectTimer);
      await connecting?.catch(() => undefined);
      const listener = client;
      client = undefined;
      connected = false;
      if (listener) {
        listener.removeAllListeners('notification');
        await listener.end().catch(() => undefined);
      }
      await deliveries;
    },
  };
}

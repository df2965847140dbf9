// Server-Sent Events over the event log: resumable with Last-Event-ID, kept open by heartbeats, bounded per client, ended on shutdown.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { EventFanout } from '../../events/fanout.js';
import { readStreams } from '../../db/repositories/events.js';
import type { EventRecord } from '../../events/log.js';
import { ApiError, badRequest } from '../errors.js';

/** What one audience may see of an event: its SSE event name and data. */
export interface LiveMessage {
  type: string;
  data: unknown;
}

export interface LiveStreamSpec {
  /**
   * Streams of one audience shape every event the same way, so an event going to a thousand of them
   * is projected and serialised once.
   */
  audience: string;
  streams: readonly string[];
  /** Event types this audience reads; resuming reads only these from the table. All types when absent. */
  types?: readonly string[];
  /** Shapes an event for the audience; null leaves it out (the place to strip personal data). */
  project(event: EventRecord): LiveMessage | null;
  /**
   * The current state, sent first as a `snapshot` event to a client without Last-Event-ID (and to one too far behind,
   * or behind events that retention has dropped).
   * Without it a new client gets the streams' whole history instead, which suits short streams such as one order's.
   */
  snapshot?(): Promise<unknown>;
  /**
   * Names a snapshot every client of the stream shares (a public one, the same for everybody): clients opening at
   * the same watermark share one read of it, so a crowd arriving at once costs one query, not one each.
   */
  sharedSnapshot?: string;
}

export interface LiveStreamOptions {
  fanout: EventFanout;
  /** Comment lines this often keep proxies and load balancers from closing an idle stream. */
  heartbeatMs?: number;
  /** A client whose unsent output passes this is dropped; the others never wait for it. */
  maxBufferedBytes?: number;
  /** A resuming client missing more than this gets a fresh snapshot instead of the backlog (when the stream has one). */
  maxReplayEvents?: number;
  /** How long a new stream waits for the LISTEN connection before answering 503. */
  readyTimeoutMs?: number;
  /** Open streams one process serves; past it new ones get 503 and go to another replica. */
  maxStreams?: number;
}

export interface LiveStreamStats {
  open: number;
  droppedSlowClients: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    liveStreams: {
      /** Answers the request with an event stream; throws an ApiError (nothing sent yet) when it cannot. */
      open(request: FastifyRequest, reply: FastifyReply, spec: LiveStreamSpec): Promise<void>;
      stats(): LiveStreamStats;
    };
  }
}

const LAST_EVENT_ID = /^\d{1,15}$/;
// The fan-out hands every subscriber the same event object, so frames can hang off it until it is collected.
const framed = new WeakMap<EventRecord, Map<string, string | null>>();
const REPLAY_PAGE = 500;

function frame(id: number, type: string, data: unknown): string {
  // JSON never contains a raw newline, so one data line carries the whole payload.
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Parses the Last-Event-ID header: absent or empty means a fresh start. */
export function parseLastEventId(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return undefined;
  if (!LAST_EVENT_ID.test(value)) {
    throw badRequest('invalid_last_event_id', 'Last-Event-ID must be the decimal id of an event this stream sent');
  }
  return Number(value);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

interface LiveConnection {
  write(chunk: string): void;
  end(): void;
}

export default fp(
  async (app: FastifyInstance, opts: LiveStreamOptions) => {
    const fanout = opts.fanout;
    const heartbeatMs = opts.heartbeatMs ?? 15_000;
    const maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    const maxReplayEvents = opts.maxReplayEvents ?? 1_000;
    const readyTimeoutMs = opts.readyTimeoutMs ?? 5_000;
    const maxStreams = opts.maxStreams ?? 20_000;
    const open = new Set<LiveConnection>();
    let droppedSlowClients = 0;
    // Shared snapshots being read or just read, by name and watermark: the same watermark means the same events.
    const sharedSnapshots = new Map<string, Promise<unknown>>();
    function readShared(key: string, read: () => Promise<unknown>): Promise<unknown> {
      let reading = sharedSnapshots.get(key);
      if (!reading) {
        reading = read();
        sharedSnapshots.set(key, reading);
        // Kept a moment after it settles, for the rest of a crowd at the same watermark; a failure is not kept.
        const forget = () => setTimeout(() => sharedSnapshots.delete(key), 1_000).unref();
        reading.then(forget, () => sharedSnapshots.delete(key));
      }
      return reading;
    }

    // One timer for all streams: a timer per stream would cost more than the streams themselves.
    const heartbeat = setInterval(() => {
      for (const connection of open) connection.write(': heartbeat\n\n');
    }, heartbeatMs);
    heartbeat.unref();

    async function openStream(request: FastifyRequest, reply: FastifyReply, spec: LiveStreamSpec): Promise<void> {
      const lastEventId = parseLastEventId(request.headers['last-event-id']);
      if (open.size >= maxStreams) {
        reply.header('retry-after', '5');
        throw new ApiError(
          503,
          'too_many_streams',
          'This server has as many live streams open as it can serve; try again shortly',
        );
      }
      try {
        await withTimeout(fanout.ready(), readyTimeoutMs);
      } catch (err) {
        request.log.warn({ err }, 'live events are unavailable');
        throw new ApiError(503, 'events_unavailable', 'Live events are unavailable right now; try again shortly');
      }

      const res = reply.raw;
      const typeFilter = spec.types ? new Set(spec.types) : undefined;
      let replaying = true;
      let closed = false;
      const backlog: EventRecord[] = [];

      const connection: LiveConnection = {
        write(chunk) {
          if (closed) return;
          res.write(chunk);
          // Writes never wait for a slow reader; its backlog grows in memory until this bound drops it.
          if (res.writableLength > maxBufferedBytes) {
            droppedSlowClients += 1;
            request.log.warn(
              { bufferedBytes: res.writableLength },
              'dropping a live stream whose client does not keep up',
            );
            close();
            res.destroy();
          }
        },
        end() {
          if (closed) return;
          close();
          res.end();
        },
      };
      function close() {
        closed = true;
        subscription.unsubscribe();
        open.delete(connection);
      }
      const send = (event: EventRecord) => {
        if (typeFilter && !typeFilter.has(event.type)) return;
        let frames = framed.get(event);
        if (!frames) framed.set(event, (frames = new Map()));
        let chunk = frames.get(spec.audience);
        if (chunk === undefined) {
          const message = spec.project(event);
          chunk = message ? frame(event.id, message.type, message.data) : null;
          frames.set(spec.audience, chunk);
        }
        if (chunk !== null) connection.write(chunk);
      };

      const subscription = fanout.subscribe(spec.streams, {
        onEvent(event) {
          if (!replaying) return send(event);
          backlog.push(event);
          // While the table is read, live events wait here; a flood that outgrows the bound drops the client like a slow one.
          if (backlog.length > maxReplayEvents * 10) connection.end();
        },
        onLost() {
          // Ending makes the browser reconnect with Last-Event-ID, and the table fills the hole.
          connection.end();
        },
      });
      const watermark = subscription.watermark;

      reply.hijack();
      res.on('close', close);
      if (res.destroyed) {
        close();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        // Nginx and similar proxies would otherwise buffer the stream.
        'x-accel-buffering': 'no',
      });
      open.add(connection);
      // Jittered, so the clients of a replica that goes away do not all come back in the same instant.
      connection.write(`retry: ${1_000 + Math.floor(Math.random() * 2_000)}\n\n`);

      try {
        const replay = async (afterId: number): Promise<void> => {
          for (let cursor = afterId; !closed;) {
            const page = await readStreams(app.db, {
              streams: spec.streams,
              afterId: cursor,
              upToId: watermark,
              types: spec.types,
              limit: REPLAY_PAGE,
            });
            for (const event of page) send(event);
            if (page.length < REPLAY_PAGE) return;
            cursor = page[page.length - 1]!.id;
          }
        };
        const sendSnapshot = async (): Promise<void> => {
          const state = spec.sharedSnapshot
            ? await readShared(`${spec.sharedSnapshot}@${watermark}`, spec.snapshot!)
            : await spec.snapshot!();
          // The snapshot reflects every event up to the watermark, so its id is where a reconnect resumes.
          connection.write(frame(watermark, 'snapshot', state));
        };

        if (lastEventId === undefined) {
          if (spec.snapshot) await sendSnapshot();
          else await replay(0);
        } else if (spec.snapshot && lastEventId < (await app.repos.eventPartitions.droppedThroughId())) {
          // Retention dropped events after the client's last one: the backlog has holes, the snapshot has none.
          await sendSnapshot();
        } else if (spec.snapshot) {
          const missed = await readStreams(app.db, {
            streams: spec.streams,
            afterId: lastEventId,
            upToId: watermark,
            types: spec.types,
            limit: maxReplayEvents + 1,
          });
          if (missed.length > maxReplayEvents) await sendSnapshot();
          else for (const event of missed) send(event);
        } else {
          await replay(lastEventId);
        }
        replaying = false;
        for (const event of backlog.splice(0)) send(event);
      } catch (err) {
        request.log.error({ err }, 'could not replay a live stream; ending it so the client resumes');
        connection.end();
      }
    }

    app.decorate('liveStreams', {
      open: openStream,
      stats: () => ({ open: open.size, droppedSlowClients }),
    });

    // Open streams never finish on their own, so close() would wait for them forever.
    app.addHook('preClose', async () => {
      clearInterval(heartbeat);
      for (const connection of [...open]) connection.end();
    });
  },
  { name: 'live-streams', dependencies: ['repositories'] },
);

// A small Server-Sent Events client for tests: reads a stream with fetch, parses it, and lets a test wait for events; plus a client that never reads.
import net from 'node:net';

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: any;
  /** When the event arrived, from performance.now(). */
  receivedAt: number;
}

export interface SseClient {
  status: number;
  headers: Headers;
  /** The error body when the stream was refused. */
  body: any;
  events: SseEvent[];
  comments: string[];
  /** Resolves when the server ends the stream (or the connection drops). */
  ended: Promise<void>;
  /** Waits until `count` events matching `match` have arrived, and returns them. */
  waitFor(match: (e: SseEvent) => boolean, count?: number, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

export async function openSse(
  url: string,
  opts: { headers?: Record<string, string>; onEvent?: (e: SseEvent) => void } = {},
): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...opts.headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of waiters) waiter();
  };

  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return {
      status: res.status,
      headers: res.headers,
      body,
      events,
      comments,
      ended: Promise.resolve(),
      waitFor: () => Promise.resolve([]),
      close: () => undefined,
    };
  }

  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let finished = false;
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) {
            const parsed: SseEvent = { id, event, data: JSON.parse(data.join('\n')), receivedAt: performance.now() };
            events.push(parsed);
            opts.onEvent?.(parsed);
          }
          notify();
        }
      }
    } catch {
      // aborted or dropped: the stream is over either way
    } finally {
      finished = true;
      notify();
    }
  })();

  return {
    status: res.status,
    headers: res.headers,
    body: undefined,
    events,
    comments,
    ended,
    waitFor(match, count = 1, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.filter(match);
          if (found.length >= count) {
            cleanup();
            resolve(found);
          } else if (finished) {
            cleanup();
            reject(
              new Error(
                `stream ended with ${found.length}/${count} matching events: ${JSON.stringify(events.map((e) => [e.id, e.event]))}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `timed out with ${events.filter(match).length}/${count} matching events: ${JSON.stringify(events.map((e) => [e.id, e.event]))}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      controller.abort();
    },
  };
}

/** A client that sends the request and then never reads a byte: the server's writes pile up against it. */
export async function openStalledSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const { hostname, port, pathname } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  const lines = [
    `GET ${pathname} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Accept: text/event-stream',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  socket.pause();
  return { socket, closed };
}

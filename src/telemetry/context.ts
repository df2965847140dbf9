// Carrying a trace over hops no instrumentation sees (an event from NOTIFY to its live streams and webhooks, a charge
// from the bank's request to its webhook back), and the trace ids on log lines. Each costs a lookup of the active span
// and nothing more while tracing is off.
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { activeTracing } from './tracing.js';

const tracer = () => trace.getTracer('durable-food-delivery');

/** The W3C traceparent of the active span, to store or send with work that continues the trace elsewhere. */
export function currentTraceparent(): string | undefined {
  if (!trace.getActiveSpan()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

function contextOf(traceparent: string): Context {
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/**
 * Runs `fn` in a span continuing the trace `traceparent` names, linked to the trace it runs in (a webhook sender's
 * activity, say); without a traceparent, or with tracing off, it just runs `fn`.
 */
export async function inContinuedSpan<T>(
  name: string,
  traceparent: string | undefined,
  opts: { kind: SpanKind; attributes?: Attributes },
  fn: (span: Span | undefined) => Promise<T> | T,
): Promise<T> {
  if (!traceparent || !activeTracing()) return fn(undefined);
  const local = trace.getActiveSpan()?.spanContext();
  const links: Link[] = local && isSpanContextValid(local) ? [{ context: local }] : [];
  return tracer().startActiveSpan(
    name,
    { kind: opts.kind, attributes: opts.attributes, links },
    contextOf(traceparent),
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Runs `fn` in a child span of the active one, when there is one; otherwise just runs it. */
export async function inChildSpan<T>(
  name: string,
  opts: { kind: SpanKind; attributes?: Attributes },
  fn: () => Promise<T>,
): Promise<T> {
  if (!trace.getActiveSpan()) return fn();
  return tracer().startActiveSpan(name, { kind: opts.kind, attributes: opts.attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `fn` outside any trace. Background work started from a request (a loop woken by it, a connection it opened)
 * would otherwise carry that request's trace in every timer and callback it ever schedules.
 */
export function outsideTraces<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}

/** Trace and span ids of the line's moment, for pino's `mixin`: a log line then finds its trace, and back. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/** Pino (or Fastify logger) options with trace ids on every line while tracing is on; anything else unchanged. */
export function withTraceFields<T>(options: T): T {
  if (!activeTracing() || typeof options !== 'object' || options === null) return options;
  return { ...options, mixin: traceFields };
}

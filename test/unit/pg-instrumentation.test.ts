import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyWhenRecording, pgInstrumentation } from '../../src/telemetry/pg-instrumentation.js';

type Query = (this: unknown, ...args: unknown[]) => unknown;

const unsampled = trace.wrapSpanContext({
  traceId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  spanId: '0123456789abcdef',
  traceFlags: TraceFlags.NONE,
});

describe('the pg instrumentation', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(manager.enable()));
  afterAll(() => {
    manager.disable();
    context.disable();
  });

  it('instruments a statement only under a span that records', () => {
    const calls: string[] = [];
    const original: Query = () => calls.push('driver');
    const query = onlyWhenRecording(
      (driver) =>
        function (this: unknown, ...args: unknown[]) {
          calls.push('instrumented');
          return driver.apply(this, args);
        },
    )(original);
    query.call({}, 'SELECT 1');
    context.with(trace.setSpan(ROOT_CONTEXT, unsampled), () => query.call({}, 'SELECT 1'));
    expect(calls).toEqual(['driver', 'driver']);
    const recording = new BasicTracerProvider().getTracer('test').startSpan('request');
    context.with(trace.setSpan(ROOT_CONTEXT, recording), () => query.call({}, 'SELECT 1'));
    expect(calls).toEqual(['driver', 'driver', 'instrumented', 'driver']);
    recording.end();
  });

  it('leaves an unsampled statement to the driver untouched', () => {
    // The instrumentation's own patch reads the client's connection (a real client's); this one has none, so only a
    // statement that skips it can run.
    const instrumentation = pgInstrumentation() as unknown as { _getClientQueryPatch(): (q: Query) => Query };
    const query = instrumentation._getClientQueryPatch()(function (this: unknown) {
      return 'rows';
    });
    expect(context.with(trace.setSpan(ROOT_CONTEXT, unsampled), () => query.call({}, 'SELECT 1'))).toBe('rows');
  });
});

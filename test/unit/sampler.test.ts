import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { samplerFromEnv, WithoutTransactionControl } from '../../src/telemetry/sampler.js';

const TRACE_ID = 'ffffffffffffffffffffffffffffffff';
// The ratio sampler reads a trace id as a number (its four 32-bit words XORed): the first is near 0, the second near the top.
const LOW_TRACE_ID = '00000000000000000000000000000001';
const HIGH_TRACE_ID = 'ffffffff000000000000000000000000';

function decide(env: NodeJS.ProcessEnv, name: string, opts: { parentSampled?: boolean; traceId?: string } = {}) {
  const context =
    opts.parentSampled === undefined
      ? ROOT_CONTEXT
      : trace.setSpanContext(ROOT_CONTEXT, {
          traceId: TRACE_ID,
          spanId: 'ffffffffffffffff',
          traceFlags: opts.parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        });
  return new WithoutTransactionControl(samplerFromEnv(env)).shouldSample(
    context,
    opts.traceId ?? TRACE_ID,
    name,
    SpanKind.CLIENT,
    {},
    [],
  ).decision;
}

describe('the sampler', () => {
  it('never records transaction control, whatever the parent decided', () => {
    for (const name of [
      'pg.query:BEGIN app',
      'pg.query:COMMIT app',
      'pg.query:ROLLBACK app',
      'pg.query:SAVEPOINT app',
      'pg.query:RELEASE app',
      'pg.query:SET app',
    ])
      expect(decide({}, name, { parentSampled: true }), name).toBe(SamplingDecision.NOT_RECORD);
  });

  it('records statements and every other span as OTEL_TRACES_SAMPLER says', () => {
    for (const name of ['pg.query:SELECT app', 'pg.query:INSERT app', 'pg.query:stock_reserve', 'POST /v1/orders'])
      expect(decide({}, name, { parentSampled: true }), name).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({}, 'pg.query:SELECT app', { parentSampled: false })).toBe(SamplingDecision.NOT_RECORD);
    // A statement whose name only starts like transaction control is still a statement.
    expect(decide({}, 'pg.query:SETTLE app', { parentSampled: true })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('reads the standard names and the ratio', () => {
    const ratio = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' };
    // A ratio keeps the traces whose id falls below it.
    expect(decide(ratio, 'POST /v1/orders', { traceId: LOW_TRACE_ID })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(ratio, 'POST /v1/orders', { traceId: HIGH_TRACE_ID })).toBe(SamplingDecision.NOT_RECORD);
    // Parent-based: a sampled caller is followed even where the ratio alone would drop the trace.
    expect(decide(ratio, 'POST /v1/orders', { parentSampled: true })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({ OTEL_TRACES_SAMPLER: 'always_off' }, 'POST /v1/orders', { parentSampled: true })).toBe(
      SamplingDecision.NOT_RECORD,
    );
    expect(decide({ OTEL_TRACES_SAMPLER: 'ALWAYS_ON' }, 'POST /v1/orders', { parentSampled: false })).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
  });

  it('names the variable when a value is wrong', () => {
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toThrow(/OTEL_TRACES_SAMPLER=jaeger_remote/);
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG=2/,
    );
  });
});

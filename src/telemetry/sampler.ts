// Which spans are recorded: the standard OTEL_TRACES_SAMPLER choice, except the database's transaction control.
// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE and SET LOCAL (24 of the 201 spans of an order's placement trace, 24 of
// its 105 statements) tell nothing that the activity or request span around them does not: their time is inside it.
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';

/** Span names of the pg instrumentation for transaction control: `pg.query:COMMIT app`, and so on. */
const TRANSACTION_CONTROL = /^pg\.query:(BEGIN|START|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|SET)\b/;

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name (parentbased_always_on when unset), as the SDK reads them. */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on') as (typeof SAMPLERS)[number];
  if (!SAMPLERS.includes(name))
    throw new Error(`OTEL_TRACES_SAMPLER=${env.OTEL_TRACES_SAMPLER} is not one of ${SAMPLERS.join(', ')}.`);
  const ratio = (): Sampler => {
    const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
    const value = raw ? Number(raw) : 1;
    if (!Number.isFinite(value) || value < 0 || value > 1)
      throw new Error(`OTEL_TRACES_SAMPLER_ARG=${raw} must be a number from 0 to 1.`);
    return new TraceIdRatioBasedSampler(value);
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
  }
}

/** `inner`'s decision for every span but transaction control, which is never recorded. */
export class WithoutTransactionControl implements Sampler {
  constructor(private readonly inner: Sampler) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (TRANSACTION_CONTROL.test(spanName)) return { decision: SamplingDecision.NOT_RECORD };
    return this.inner.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `WithoutTransactionControl{${this.inner.toString()}}`;
  }
}

// The pg instrumentation, instrumenting a statement only under a span that records. Its own `requireParentSpan` asks
// only for a span, and an unsampled trace has one too (a non-recording span): every statement of an unsampled order
// would then be parsed, given a span nobody keeps and have its callbacks bound to the context, about 5 ms of CPU per
// order in each of the API and the worker. Here such a statement goes straight to the driver.
import { trace } from '@opentelemetry/api';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';

type Query = (this: unknown, ...args: unknown[]) => unknown;

/** What the instrumentation wraps `pg.Client.prototype.query` with; it reads it when it patches the driver. */
interface QueryPatching {
  _getClientQueryPatch(): (original: Query) => Query;
}

/** `patch(original)` for statements under a recording span, `original` for every other. */
export function onlyWhenRecording(patch: (original: Query) => Query): (original: Query) => Query {
  return (original) => {
    const instrumented = patch(original);
    return function query(this: unknown, ...args: unknown[]) {
      return trace.getActiveSpan()?.isRecording() ? instrumented.apply(this, args) : original.apply(this, args);
    };
  };
}

export function pgInstrumentation(): PgInstrumentation {
  // Enabled by registerInstrumentations, after the patch below is in place.
  const instrumentation = new PgInstrumentation({ enabled: false, requireParentSpan: true, ignoreConnectSpans: true });
  const patching = instrumentation as unknown as QueryPatching;
  const patch = patching._getClientQueryPatch.bind(instrumentation);
  if (typeof patch !== 'function') throw new Error('@opentelemetry/instrumentation-pg no longer patches queries here');
  patching._getClientQueryPatch = () => onlyWhenRecording(patch());
  return instrumentation;
}

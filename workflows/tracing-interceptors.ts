// The workflow side of tracing, paid for only by the workflows whose trace is sampled. Every workflow run has a module
// cache of its own, so whatever the interceptors import (OpenTelemetry's tracer, context and exporter among them) is
// evaluated afresh for each run: about 28 ms of worker CPU per order when every workflow loaded it, sampled or not.
// Here a run loads OpenTelemetry's interceptors only once the first call that carries a trace (its start, or a signal or
// update) says that trace is sampled; every other run passes its calls straight through. The decision comes from the
// history alone, so a replay makes the same one.
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { defaultPayloadConverter, type Headers, type Payload } from '@temporalio/workflow';

/** The header Temporal's OpenTelemetry interceptors carry a trace in: a payload of the W3C trace context. */
const TRACE_HEADER = '_tracer-data';

/** Whether `headers` carry a trace: undefined when they carry none, else whether it is sampled. */
export function sampledIn(headers: Headers): boolean | undefined {
  const payload = headers[TRACE_HEADER];
  if (payload === undefined) return undefined;
  const carrier = defaultPayloadConverter.fromPayload<{ traceparent?: unknown }>(payload);
  const flags = typeof carrier?.traceparent === 'string' ? carrier.traceparent.split('-')[3] : undefined;
  return flags !== undefined && (parseInt(flags, 16) & 1) === 1;
}

type Traced = Required<Pick<WorkflowInterceptors, 'inbound' | 'outbound' | 'internals'>>;

function loadTraced(): Traced {
  // Evaluated here, at the first sampled call, rather than when the bundle starts a run.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow') as {
    OpenTelemetryInboundInterceptor: new () => WorkflowInboundCallsInterceptor;
    OpenTelemetryOutboundInterceptor: new () => WorkflowOutboundCallsInterceptor;
    OpenTelemetryInternalsInterceptor: new () => WorkflowInternalsInterceptor;
  };
  return {
    inbound: [new otel.OpenTelemetryInboundInterceptor()],
    outbound: [new otel.OpenTelemetryOutboundInterceptor()],
    internals: [new otel.OpenTelemetryInternalsInterceptor()],
  };
}

type Method = (input: { headers?: Headers }, next: (input: unknown) => unknown) => unknown;

/**
 * An interceptor whose every method goes to `target()`'s while the run is traced, and to `otherwise` (straight on, if
 * it has none) while it is not; `before` sees each input first.
 */
function forwarding<T extends object>(
  target: () => T | undefined,
  methods: readonly (keyof T & string)[],
  opts: { before?: (input: { headers?: Headers }) => void; otherwise?: Method } = {},
): T {
  const forwarded: Record<string, Method> = {};
  for (const name of methods) {
    forwarded[name] = (input, next) => {
      opts.before?.(input);
      const interceptor = target();
      const method = interceptor?.[name] as Method | undefined;
      if (method) return method.call(interceptor, input, next);
      return opts.otherwise ? opts.otherwise(input, next) : next(input);
    };
  }
  return forwarded as T;
}

export const interceptors = (): WorkflowInterceptors => {
  let decided = false;
  let traced: Traced | undefined;
  // An unsampled run's trace header, passed on as it came, so what the run starts stays in that unsampled trace
  // rather than starting traces of its own.
  let unsampled: Payload | undefined;
  const decide = ({ headers }: { headers?: Headers }) => {
    if (decided || !headers) return;
    const sampled = sampledIn(headers);
    if (sampled === undefined) return;
    decided = true;
    if (sampled) traced = loadTraced();
    else unsampled = headers[TRACE_HEADER];
  };
  const passOn: Method = (input, next) =>
    next(unsampled ? { ...input, headers: { ...input.headers, [TRACE_HEADER]: unsampled } } : input);
  return {
    inbound: [
      // Only calls the history holds decide: a query, or an update's validation (a refused update leaves no
      // event), must not, or a replay could decide otherwise.
      forwarding<WorkflowInboundCallsInterceptor>(
        () => traced?.inbound[0],
        ['execute', 'handleSignal', 'handleUpdate'],
        { before: decide },
      ),
      forwarding<WorkflowInboundCallsInterceptor>(() => traced?.inbound[0], ['validateUpdate', 'handleQuery']),
    ],
    outbound: [
      forwarding<WorkflowOutboundCallsInterceptor>(
        () => traced?.outbound[0],
        ['scheduleActivity', 'scheduleLocalActivity', 'startChildWorkflowExecution', 'continueAsNew', 'signalWorkflow'],
        { otherwise: passOn },
      ),
      forwarding<WorkflowOutboundCallsInterceptor>(
        () => traced?.outbound[0],
        ['startNexusOperation', 'getLogAttributes'],
      ),
    ],
    internals: [forwarding<WorkflowInternalsInterceptor>(() => traced?.internals[0], ['dispose'])],
  };
};

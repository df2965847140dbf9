// Temporal's OpenTelemetry interceptors wired to this process's tracing: client calls (start, update-with-start,
// signal, the activities' own client among them) carry the caller's trace in their headers, workflows continue it in the sandbox and export their spans through
// a sink, and activities continue it on the worker. With tracing off the clients and activities get no interceptors,
// and the workflows' spans (their interceptors are in every bundle) are dropped at the sink.
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientOptions } from '@temporalio/client';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import { activeTracing } from './tracing.js';
import { WORKFLOW_INTERCEPTOR_MODULES } from './workflow-interceptors.js';

/** Interceptors for a Temporal Client, or none while tracing is off. */
export function tracingClientInterceptors(): ClientOptions['interceptors'] {
  if (!activeTracing()) return undefined;
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/** The sink workflows export their spans to: this process's tracing, or nowhere while it is off. */
export function workflowSpanSinks(): InjectedSinks<OpenTelemetrySinks> {
  const tracing = activeTracing();
  return {
    exporter: tracing
      ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource)
      : { export: { fn: () => undefined } },
  };
}

/** The worker's interceptors and the sink its workflows export spans to; `bundling` when it bundles the workflows itself. */
export function tracingWorkerOptions(opts: { bundling: boolean }): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const tracing = activeTracing();
  return {
    interceptors: {
      // Only when traced: the interceptors double the bundle every new workflow runs afresh.
      ...(opts.bundling && tracing ? { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } : {}),
      // The client activities use (a delivery step signalling its order, say) carries their trace too.
      ...(tracing ? { client: tracingClientInterceptors() } : {}),
      activity: tracing
        ? [
            (ctx) => ({
              inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
              outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
            }),
          ]
        : [],
    },
    sinks: workflowSpanSinks(),
  };
}

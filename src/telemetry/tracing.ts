// OpenTelemetry tracing for one process (API, worker or bank), configured by the standard OTEL_* variables. Off unless
// an exporter is asked for: then nothing is registered, the global tracer is OpenTelemetry's no-op one, and the code
// that propagates trace context finds no active span and does nothing.
import { createRequire } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResourcesSync, envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { FileSpanExporter } from './file-exporter.js';
import { pgInstrumentation } from './pg-instrumentation.js';
import { samplerFromEnv, WithoutTransactionControl } from './sampler.js';

export interface Tracing {
  readonly serviceName: string;
  readonly resource: Resource;
  /** Every span ends here; the worker hands it the workflow spans that the workflow sandbox exports through a sink. */
  readonly spanProcessor: SpanProcessor;
  /** The Fastify plugin that opens a span per request (continuing the caller's trace from its `traceparent`). */
  readonly fastify: FastifyOtelInstrumentation;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Flushes and turns tracing off again for this process. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** The service name when OTEL_SERVICE_NAME does not give one. */
  serviceName: string;
  env?: NodeJS.ProcessEnv;
  /** Exporters of the caller's own (tests), each seeing a span as soon as it ends; the environment's are ignored. */
  exporters?: SpanExporter[];
}

let active: Tracing | undefined;

/** The process's tracing, or undefined when it is off. */
export function activeTracing(): Tracing | undefined {
  return active;
}

/**
 * The exporters the environment asks for: OTEL_TRACES_EXPORTER (otlp, console, none; comma-separated), else otlp when
 * an OTLP endpoint is set, else none; and a file of JSON lines when TRACE_FILE names one (`npm start -- --trace-file`).
 */
export function exportersFromEnv(env: NodeJS.ProcessEnv): SpanExporter[] {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return [];
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const names = (env.OTEL_TRACES_EXPORTER ?? (endpoint ? 'otlp' : 'none'))
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '' && name !== 'none');
  const exporters: SpanExporter[] = names.map((name) => {
    if (name === 'otlp') return new OTLPTraceExporter();
    if (name === 'console') return new ConsoleSpanExporter();
    throw new Error(`OTEL_TRACES_EXPORTER=${name} is not supported here: use otlp, console or none.`);
  });
  if (env.TRACE_FILE) exporters.push(new FileSpanExporter(env.TRACE_FILE));
  return exporters;
}

/**
 * Starts tracing for this process when an exporter is configured, and returns it; undefined when tracing stays off.
 * Call it before the database and HTTP clients are created, so their instrumentations see every call.
 */
export function startTracing(opts: TracingOptions): Tracing | undefined {
  if (active) return active;
  const env = opts.env ?? process.env;
  const batch = opts.exporters === undefined;
  const exporters = opts.exporters ?? exportersFromEnv(env);
  if (exporters.length === 0) return undefined;

  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the process's own name.
  const resource = new Resource({ [ATTR_SERVICE_NAME]: opts.serviceName }).merge(
    detectResourcesSync({ detectors: [envDetectorSync] }),
  );
  const provider = new NodeTracerProvider({
    resource,
    // OTEL_TRACES_SAMPLER's choice, without the database's BEGIN and COMMIT.
    sampler: new WithoutTransactionControl(samplerFromEnv(env)),
    // Batches for the network and the file, as OTEL_BSP_* tune them; a test's exporter sees each span as it ends.
    spanProcessors: exporters.map((exporter) =>
      batch ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter),
    ),
  });
  // The global tracer, AsyncLocalStorage context and W3C trace context propagation (OTEL_PROPAGATORS).
  provider.register();

  const fastify = new FastifyOtelInstrumentation({
    // Request and handler spans; a span per lifecycle hook would cost more than it tells.
    instrumentHooks: false,
    ignorePaths: ({ url }) => IGNORED_PATHS.has(url.split('?')[0]!),
    // Named by method and route, as HTTP server spans are, rather than "request".
    requestHook: (span, request) => span.updateName(`${request.method} ${request.routeOptions.url ?? request.url}`),
  });
  const disableInstrumentations = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      fastify,
      // Spans only inside a recorded trace: the bank's and the fan-out's background polling would otherwise start one
      // each time, and an unsampled order's statements would each get a span nobody keeps.
      pgInstrumentation(),
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // Outgoing webhooks use node:http; incoming requests are @fastify/otel's.
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true, requireParentforOutgoingSpans: true }),
    ],
  });
  // The http instrumentation patches node:http when it is next required; ESM imports of it do not count.
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');

  const spanProcessor = provider.getActiveSpanProcessor();
  const tracing: Tracing = {
    serviceName: String(resource.attributes[ATTR_SERVICE_NAME]),
    resource,
    spanProcessor,
    fastify,
    flush: () => provider.forceFlush(),
    async shutdown() {
      if (active !== tracing) return;
      active = undefined;
      disableInstrumentations();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
  active = tracing;
  return tracing;
}

/** Probes and scrapes: frequent, and nothing an order's trace needs. */
const IGNORED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

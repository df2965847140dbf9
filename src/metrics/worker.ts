// Telemetry of the worker process: JSON logs through pino, the Temporal SDK's Prometheus exporter, and our own metrics beside it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Runtime, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';
import { pino, type Logger as PinoLogger } from 'pino';
import { collectDefaultMetrics, register } from 'prom-client';
import type { Config } from '../config.js';
import { withTraceFields } from '../telemetry/context.js';

const PINO_LEVEL = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
} as const satisfies Record<LogLevel, string>;

/**
 * The SDK's Logger over pino. The SDK adds workflowId, runId and activity details to the metadata of every
 * line logged from workflow or activity code, so those lines carry the ids an operator greps for.
 */
export function temporalLogger(log: PinoLogger): Logger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    log[PINO_LEVEL[level]]({ ...meta }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

export interface WorkerTelemetry {
  log: PinoLogger;
  /** The metrics addresses actually listened on (absent when turned off), for the ready line. */
  endpoints: { sdk?: string; app?: string };
  close(): Promise<void>;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function serveRegistry(host: string, port: number): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Not found: metrics are at /metrics\n');
      return;
    }
    register.metrics().then(
      (body) => response.writeHead(200, { 'content-type': register.contentType }).end(body),
      (err: unknown) =>
        response
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`Could not collect metrics: ${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Port ${port} is already in use, so the worker cannot serve its metrics. Choose another with WORKER_APP_METRICS_PORT=<port>, or 0 to turn them off.`,
            )
          : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}

/**
 * Installs the Temporal Runtime with JSON logging and the SDK's Prometheus exporter. Call it before the
 * first NativeConnection or Worker: the Runtime is created once per process and cannot change afterwards.
 */
export async function installWorkerTelemetry(config: Config): Promise<WorkerTelemetry> {
  const log = pino(withTraceFields({ level: config.logLevel, base: { service: 'worker', pid: process.pid } }));
  const { sdkPort, appPort } = config.workerMetrics;
  const endpoints: WorkerTelemetry['endpoints'] = {};

  try {
    Runtime.install({
      logger: temporalLogger(log),
      telemetryOptions: {
        // The SDK core's own lines go through the same logger, so they are JSON like the rest.
        logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
        // Defaults kept (milliseconds, no unit suffix) so Temporal's published SDK dashboards work unchanged.
        ...(sdkPort > 0 ? { metrics: { prometheus: { bindAddress: hostPort(config.host, sdkPort) } } } : {}),
      },
    });
  } catch (err) {
    if (!/address already in use/i.test(String(err))) throw err;
    throw new Error(
      `Port ${sdkPort} is already in use, so the worker cannot serve the Temporal SDK's metrics. Choose another with WORKER_METRICS_PORT=<port>, or 0 to turn them off.`,
      { cause: err },
    );
  }
  if (sdkPort > 0) endpoints.sdk = `http://${hostPort(config.host, sdkPort)}/metrics`;

  let server: http.Server | undefined;
  if (appPort > 0) {
    collectDefaultMetrics({ register });
    server = await serveRegistry(config.host, appPort);
    endpoints.app = `http://${hostPort(config.host, (server.address() as AddressInfo).port)}/metrics`;
  }

  return {
    log,
    endpoints,
    async close() {
      const metricsServer = server;
      if (!metricsServer) return;
      const closed = new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      // A scraper's keep-alive connection would otherwise hold the process open.
      metricsServer.closeAllConnections();
      await closed;
    },
  };
}

// Connection settings for Temporal shared by the API, the worker and tools: a local dev server, a cluster or Temporal Cloud.
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { Config } from './config.js';
import { tracingClientInterceptors } from './telemetry/temporal.js';

/** Options both the client's Connection and the worker's NativeConnection accept. */
type SharedConnectionOptions = Pick<ConnectionOptions, 'address' | 'tls' | 'metadata'> & { apiKey?: string };

export function temporalConnectionOptions(config: Config, address: string): SharedConnectionOptions {
  const { tlsCertPath, tlsKeyPath, apiKey } = config.temporal;
  const options: SharedConnectionOptions = { address };
  if (tlsCertPath && tlsKeyPath) {
    options.tls = { clientCertPair: { crt: fs.readFileSync(tlsCertPath), key: fs.readFileSync(tlsKeyPath) } };
  } else if (apiKey) {
    options.tls = true;
    options.apiKey = apiKey;
    options.metadata = { 'temporal-namespace': config.temporal.namespace };
  }
  return options;
}

export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(config, temporalAddress(config)));
  return new Client({ connection, namespace: config.temporal.namespace, interceptors: tracingClientInterceptors() });
}

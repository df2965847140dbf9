// Connection settings for Temporal shared by the API, the worker and tools: a local dev server, a cluster or Temporal
// Cloud, and the one data converter every client and worker encrypts payloads with.
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { Config } from './config.js';
import { tracingClientInterceptors } from './telemetry/temporal.js';
import { createEncryptionCodec, FAILURE_CONVERTER_PATH } from './payload-codec.js';

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

export const MISSING_PAYLOAD_KEYS =
  'PAYLOAD_CODEC_KEYS is not set: with NODE_ENV=production every Temporal payload must be encrypted. Set it to id:<base64 of 32 bytes> (e.g. `k1:$(openssl rand -base64 32)`), the encrypting key first.';

/**
 * The data converter of every Temporal client and worker: payloads, and failures' messages and stack traces, are
 * encrypted before they leave the process (see src/payload-codec.ts). Refuses when no key is configured (production without PAYLOAD_CODEC_KEYS), so nothing ever
 * writes customer data to Temporal in clear.
 */
export function temporalDataConverter(config: Config): DataConverter {
  if (config.temporal.payloadKeys.length === 0) throw new Error(MISSING_PAYLOAD_KEYS);
  return {
    payloadCodecs: [createEncryptionCodec(config.temporal.payloadKeys)],
    // Workflow bundles are built with the same converter (FAILURE_CONVERTER_PATH), for the failures workflows write.
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

/** A client on `connection` in the configured namespace, encrypting as the worker does. */
export function temporalClient(config: Config, connection: Connection): Client {
  return new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: temporalDataConverter(config),
    interceptors: tracingClientInterceptors(),
  });
}

export async function connectClient(config: Config): Promise<Client> {
  return temporalClient(config, await Connection.connect(temporalConnectionOptions(config, temporalAddress(config))));
}

// How long the bank takes to answer the payment activities, as a Prometheus histogram in the worker's default registry.
import { Histogram, register } from 'prom-client';
import { isNonRetryableBankError } from '../bank/client.js';

export type BankOperation = 'requestCharge' | 'voidCharge' | 'findCharge';

// Module-level, so the worker process has exactly one, however many activity sets it builds.
const bankRequestDuration = new Histogram({
  name: 'bank_request_duration_seconds',
  help: 'Time the bank took to answer a payment activity, by operation and outcome (ok, refused: a 4xx that retrying cannot fix, error: network, timeout or 5xx)',
  labelNames: ['operation', 'outcome'] as const,
  // The client gives up after 10 s, so the top buckets show a bank that is about to time out.
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [register],
});

/** Runs one call to the bank and records how long it took and how it ended; the result or error passes through unchanged. */
export async function timeBankRequest<T>(operation: BankOperation, call: () => Promise<T>): Promise<T> {
  const stop = bankRequestDuration.startTimer({ operation });
  try {
    const result = await call();
    stop({ outcome: 'ok' });
    return result;
  } catch (err) {
    stop({ outcome: isNonRetryableBankError(err) ? 'refused' : 'error' });
    throw err;
  }
}

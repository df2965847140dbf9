// Keeps the Temporal SDK's own logs to warnings, so test output shows test results.
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // Already installed in this test worker by an earlier file.
}

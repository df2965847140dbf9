// The workflow interceptor modules every workflow bundle includes (the worker's, the build's and the tests'), so
// workflow tasks carry their trace whichever bundle runs them. Kept free of other imports: test setup loads it alone.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

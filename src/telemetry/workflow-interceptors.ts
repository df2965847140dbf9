// The workflow interceptor modules every workflow bundle includes (the worker's, the build's and the tests'), so
// workflow tasks carry their trace whichever bundle runs them. Kept free of other imports: test setup loads it alone.
// They load OpenTelemetry's own workflow interceptors only in runs whose trace is sampled.
import { fileURLToPath } from 'node:url';

export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [
  // .js, as the bundler resolves it: the TypeScript source here, the compiled file in a built tree.
  fileURLToPath(new URL('../../workflows/tracing-interceptors.js', import.meta.url)),
];

// Values the global setups hand to test files.
declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
    testServerPath: string;
    databaseUrl: string;
    bankDatabaseUrl: string;
    temporalAddress: string;
    temporalCliPath: string;
    chromiumPath: string;
  }
}

export {};

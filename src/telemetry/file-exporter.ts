// Writes finished spans to a file, one JSON line each, for development without a collector: `npm run trace` reads it.
// The API, the worker and the bank may share one file: each batch is a single append, so lines never interleave.
import fs from 'node:fs';
import path from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { spanRecord } from './span-tree.js';

export class FileSpanExporter implements SpanExporter {
  constructor(private readonly file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const lines = spans.map((span) => `${JSON.stringify(spanRecord(span))}\n`).join('');
    fs.appendFile(this.file, lines, (error) =>
      resultCallback(error ? { code: ExportResultCode.FAILED, error } : { code: ExportResultCode.SUCCESS }),
    );
  }

  async shutdown(): Promise<void> {}
}

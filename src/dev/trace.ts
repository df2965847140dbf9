// `npm run trace -- <order id or number>`: prints the traces of one order from the trace file `npm start -- --trace-file`
// writes, as trees: the placement's (through the workflow, the bank and its webhook back) and each request that moved it.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { orderNumber } from '../domain/vocabulary.js';
import { formatSpanTree, isDatabaseSpan, type SpanRecord } from '../telemetry/span-tree.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { file: { type: 'string' }, db: { type: 'boolean', default: false } },
});
const file = values.file ?? process.env.TRACE_FILE ?? path.join(loadConfig().dataDir, 'traces.jsonl');
const wanted = positionals[0]?.trim().toLowerCase();
if (!wanted) {
  console.error('Usage: npm run trace -- <order id or number> [--file <traces.jsonl>] [--db]');
  process.exit(2);
}
if (!fs.existsSync(file)) {
  console.error(`No trace file at ${file}: start the stack with \`npm start -- --trace-file\` and place an order.`);
  process.exit(1);
}

const spans = fs
  .readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as SpanRecord);

/** The order a span is about, from the workflow ids the Temporal interceptors record. */
function orderOf(span: SpanRecord): string | undefined {
  const workflowId = String(span.attributes.temporalWorkflowId ?? span.attributes.workflowId ?? '');
  return /^(?:order|delivery)-([0-9a-f-]{36})$/.exec(workflowId)?.[1];
}

const traceIds = new Set(
  spans
    .filter((span) => {
      const orderId = orderOf(span);
      return orderId !== undefined && (orderId === wanted || orderNumber(orderId).toLowerCase() === wanted);
    })
    .map((span) => span.traceId),
);
if (traceIds.size === 0) {
  console.error(`No trace in ${file} touches order ${positionals[0]}.`);
  process.exit(1);
}
const traces = [...traceIds]
  .map((traceId) => spans.filter((span) => span.traceId === traceId))
  .sort((a, b) => Math.min(...a.map((s) => s.startUs)) - Math.min(...b.map((s) => s.startUs)));
for (const trace of traces) {
  console.log(`trace ${trace[0]!.traceId} (${trace.length} spans)`);
  console.log(formatSpanTree(trace, values.db ? {} : { hide: isDatabaseSpan }));
  console.log();
}

// Spans as plain records (one JSON line each in a trace file) and the tree of one trace, printed for a person to read.
import { SpanKind, SpanStatusCode, type AttributeValue } from '@opentelemetry/api';
import { hrTimeToMicroseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  service: string;
  /** Microseconds since the epoch. */
  startUs: number;
  durationUs: number;
  error: boolean;
  attributes: Record<string, AttributeValue | undefined>;
  links: { traceId: string; spanId: string }[];
}

export function spanRecord(span: ReadableSpan): SpanRecord {
  const { traceId, spanId } = span.spanContext();
  return {
    traceId,
    spanId,
    parentSpanId: span.parentSpanId ?? null,
    name: span.name,
    kind: SpanKind[span.kind] ?? String(span.kind),
    service: String(span.resource.attributes[ATTR_SERVICE_NAME] ?? ''),
    startUs: hrTimeToMicroseconds(span.startTime),
    durationUs: hrTimeToMicroseconds(span.duration),
    error: span.status.code === SpanStatusCode.ERROR,
    attributes: { ...span.attributes },
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
  };
}

export interface SpanNode {
  span: SpanRecord;
  children: SpanNode[];
}

/** The spans of one trace as trees, earliest first; a span whose parent is missing becomes a root of its own. */
export function spanTree(spans: readonly SpanRecord[]): SpanNode[] {
  const nodes = new Map(spans.map((span) => [span.spanId, { span, children: [] as SpanNode[] }]));
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.span.parentSpanId ? nodes.get(node.span.parentSpanId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const byStart = (a: SpanNode, b: SpanNode) => a.span.startUs - b.span.startUs;
  const sort = (list: SpanNode[]) => {
    list.sort(byStart);
    for (const node of list) sort(node.children);
  };
  sort(roots);
  return roots;
}

// The attributes that say what a span is about, shown beside its name when present.
const SHOWN_ATTRIBUTES = [
  'http.request.method',
  'http.route',
  'url.full',
  'http.response.status_code',
  'db.statement',
  'db.query.text',
  'temporalWorkflowId',
  'temporalActivityId',
  'event.type',
  'event.stream',
];

function describe(span: SpanRecord): string {
  const details = SHOWN_ATTRIBUTES.map((key) => [key, span.attributes[key]] as const)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const text = String(value).replace(/\s+/g, ' ');
      return `${key}=${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
    });
  const ms = (span.durationUs / 1000).toFixed(1);
  return `${span.name} [${span.service}, ${span.kind.toLowerCase()}${span.error ? ', error' : ''}] ${ms} ms${
    details.length > 0 ? `  ${details.join(' ')}` : ''
  }`;
}

/** Database spans: many, and rarely what a reader of an order's trace looks for first. */
export const isDatabaseSpan = (span: SpanRecord) =>
  span.attributes['db.system'] !== undefined ||
  span.attributes['db.system.name'] !== undefined ||
  span.name.startsWith('pg.');

/**
 * The trace as indented lines, children under their parent in the order they started. Hidden spans are left out and
 * counted on their parent's line; their children move up to it.
 */
export function formatSpanTree(
  spans: readonly SpanRecord[],
  opts: { hide?: (span: SpanRecord) => boolean } = {},
): string {
  const hide = opts.hide ?? (() => false);
  const hiddenBelow = new Map<string, number>();
  const parentOf = new Map(spans.map((s) => [s.spanId, s.parentSpanId]));
  const hiddenIds = new Set(spans.filter(hide).map((s) => s.spanId));
  const visibleParent = (id: string | null): string | null => {
    while (id !== null && hiddenIds.has(id)) id = parentOf.get(id) ?? null;
    return id;
  };
  const visible: SpanRecord[] = [];
  for (const span of spans) {
    const parentSpanId = visibleParent(span.parentSpanId);
    if (hiddenIds.has(span.spanId)) {
      if (parentSpanId) hiddenBelow.set(parentSpanId, (hiddenBelow.get(parentSpanId) ?? 0) + 1);
    } else visible.push({ ...span, parentSpanId });
  }
  const lines: string[] = [];
  const walk = (node: SpanNode, prefix: string, last: boolean, root: boolean) => {
    const hidden = hiddenBelow.get(node.span.spanId);
    lines.push(
      `${root ? '' : `${prefix}${last ? '└─ ' : '├─ '}`}${describe(node.span)}${hidden ? `  (+${hidden} hidden)` : ''}`,
    );
    const childPrefix = root ? '' : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((child, i) => walk(child, childPrefix, i === node.children.length - 1, false));
  };
  for (const root of spanTree(visible)) walk(root, '', true, true);
  return lines.join('\n');
}

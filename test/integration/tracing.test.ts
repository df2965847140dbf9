// One order's traces on the real stack, spans kept in memory: the placement request's trace runs through the workflow,
// its activities, the bank and the bank's webhook back; every activity the order's workflows ran is traced; and the
// order's log lines carry its trace ids.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderNumber } from '../../src/domain/vocabulary.js';
import { FileSpanExporter } from '../../src/telemetry/file-exporter.js';
import { formatSpanTree, isDatabaseSpan, spanRecord, type SpanRecord } from '../../src/telemetry/span-tree.js';
import { startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { openSse } from '../support/sse.js';
import {
  createCustomer,
  createLocation,
  createProduct,
  createSlot,
  createUser,
  eventually,
  startTestStack,
  type TestStack,
} from '../support/stack.js';

const memory = new InMemorySpanExporter();
const traceFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'traces-')), 'traces.jsonl');
const logLines: Record<string, unknown>[] = [];
let tracing: Tracing;
let stack: TestStack;

beforeAll(async () => {
  // Before the stack, so its database and HTTP clients are instrumented from their first call.
  tracing = startTracing({ serviceName: 'test-stack', exporters: [memory, new FileSpanExporter(traceFile)] })!;
  stack = await startTestStack({ LOG_LEVEL: 'info' }, undefined, {
    logStream: { write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) },
  });
});

afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
});

const spans = () => memory.getFinishedSpans().map(spanRecord);

/** The activity types a workflow ran, from its history: scheduled activities and local activities' markers. */
async function activityTypes(workflowId: string): Promise<string[]> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  const types = new Set<string>();
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) types.add(scheduled);
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity') {
      const data = marker.details?.data?.payloads?.[0]?.data;
      if (data) types.add((JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type);
    }
  }
  return [...types].sort();
}

/** A location with an owner, ten of one product in stock and a slot, a customer, and a way to order two of it. */
async function stockedShop(productName: string) {
  const locationId = await createLocation(stack.db);
  const product = await createProduct(stack.db, { name: productName, price_cents: 250 });
  const owner = await createUser(stack.db, 'owner', { locationIds: [locationId] });
  const customer = await createCustomer(stack);
  const stocked = await stack.api('POST', `/v1/locations/${locationId}/stock`, {
    token: owner.token,
    body: { productId: product, quantity: 10 },
  });
  expect(stocked.status).toBe(201);
  const slotId = await createSlot(stack.db, locationId);
  /** Places the customer's order (with these request headers) and returns its id. */
  const place = async (headers: Record<string, string> = {}) => {
    const placed = await stack.api('POST', '/v1/orders', {
      token: customer.token,
      headers,
      body: {
        locationId,
        slotId,
        items: [{ productId: product, quantity: 2 }],
        address: { lat: 51.5, lng: -0.1, line1: '1 Trace Street' },
      },
    });
    expect(placed.status).toBe(201);
    return placed.body.id as string;
  };
  return { locationId, owner, customer, place };
}

describe('tracing one order', () => {
  it('links the request, the workflow, its activities, the bank and its webhook back, and puts trace ids on the logs', async () => {
    const { locationId, owner, customer, place } = await stockedShop('Traced bun');
    const driver = await createUser(stack.db, 'driver', { locationIds: [locationId] });
    memory.reset();

    const id = await place();
    const live = await openSse(`${stack.baseUrl}/v1/orders/${id}/events`, {
      headers: { authorization: `Bearer ${customer.token}` },
    });
    expect(live.status).toBe(200);
    const statusOf = async () => (await stack.api('GET', `/v1/orders/${id}`, { token: customer.token })).body.status;
    expect(await eventually(statusOf, (s) => s === 'confirmed')).toBe('confirmed');
    for (const status of ['prepping', 'prepped']) {
      const prep = await stack.api('POST', `/v1/orders/${id}/prep`, { token: owner.token, body: { status } });
      expect(prep.status).toBe(200);
    }
    await eventually(
      () => stack.api('GET', '/v1/deliveries?status=pending', { token: owner.token }),
      (r) => r.body.deliveries?.some((d: { orderId: string }) => d.orderId === id),
    );
    const assigned = await stack.api('POST', `/v1/deliveries/${id}/assign`, {
      token: owner.token,
      body: { driverId: driver.id },
    });
    expect(assigned.status).toBe(200);
    expect((await stack.api('POST', `/v1/deliveries/${id}/pickup`, { token: driver.token })).status).toBe(200);
    expect((await stack.api('POST', `/v1/deliveries/${id}/complete`, { token: driver.token })).status).toBe(200);
    expect((await stack.client.workflow.getHandle(`order-${id}`).result()).status).toBe('completed');
    await live.waitFor((e) => e.data?.status === 'completed');
    live.close();

    // Workflow spans reach the exporter through the worker's sink once their activation is done.
    const recorded = await eventually(
      async () => spans(),
      (all) =>
        ['RunWorkflow:orderWorkflow', 'RunWorkflow:deliveryWorkflow'].every((name) =>
          all.some((s) => s.name === name && s.attributes.workflowId?.toString().endsWith(id)),
        ),
    );
    const byId = new Map(recorded.map((s) => [s.spanId, s]));
    const parentOf = (span: SpanRecord) => (span.parentSpanId ? byId.get(span.parentSpanId) : undefined);
    const childOf = (parent: SpanRecord, name: string | RegExp, extra: (s: SpanRecord) => boolean = () => true) => {
      const child = recorded.find(
        (s) =>
          s.parentSpanId === parent.spanId &&
          (typeof name === 'string' ? s.name === name : name.test(s.name)) &&
          extra(s),
      );
      expect(child, `a child ${String(name)} of ${parent.name}`).toBeDefined();
      return child!;
    };
    const isAncestor = (ancestor: SpanRecord, span: SpanRecord): boolean => {
      for (let p = parentOf(span); p; p = parentOf(p)) if (p.spanId === ancestor.spanId) return true;
      return false;
    };

    // The placement request is the root of the order's trace.
    const request = recorded.find((s) => s.name === 'POST /v1/orders' && s.kind === 'SERVER')!;
    expect(request).toBeDefined();
    expect(request.parentSpanId).toBeNull();
    const trace = recorded.filter((s) => s.traceId === request.traceId);
    const inTrace = (name: string) => trace.filter((s) => s.name === name);
    // Statements are in the trace; transaction control is not, as the sampler leaves it out.
    const statements = trace.filter(isDatabaseSpan);
    expect(statements.some((s) => s.name.startsWith('pg.query:INSERT'))).toBe(true);
    expect(statements.some((s) => s.name.startsWith('pg.query:SELECT'))).toBe(true);
    expect(
      statements
        .filter((s) => /^pg\.query:(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET)\b/.test(s.name))
        .map((s) => s.name),
    ).toEqual([]);
    const updateWithStart = inTrace('UpdateWithStartWorkflow:placement')[0]!;
    expect(isAncestor(request, updateWithStart)).toBe(true);
    const run = childOf(updateWithStart, 'RunWorkflow:orderWorkflow');
    expect(run.attributes.workflowId).toBe(`order-${id}`);
    childOf(updateWithStart, 'HandleUpdate:placement');

    // Each activity the workflow starts runs as a child of its start, under the workflow.
    for (const start of trace.filter((s) => s.name.startsWith('StartActivity:'))) {
      childOf(start, start.name.replace('StartActivity:', 'RunActivity:'));
      expect(
        isAncestor(run, start) || trace.some((s) => s.name.startsWith('HandleUpdate:') && isAncestor(s, start)),
      ).toBe(true);
    }

    // The bank call, the bank's webhook back and the signal it becomes.
    const charge = childOf(childOf(run, 'StartActivity:requestCharge'), 'RunActivity:requestCharge');
    const bankCall = recorded.find(
      (s) => isAncestor(charge, s) && s.kind === 'CLIENT' && /\/charges$/.test(String(s.attributes['url.full'])),
    )!;
    expect(bankCall).toBeDefined();
    const bankRequest = childOf(bankCall, 'POST /charges', (s) => s.kind === 'SERVER');
    const webhook = trace.find((s) => s.name === 'bank webhook charge.approved')!;
    expect(webhook).toBeDefined();
    expect(isAncestor(bankRequest, webhook)).toBe(true);
    const webhookCall = childOf(webhook, /^POST$/, (s) => s.kind === 'CLIENT');
    const webhookRequest = childOf(webhookCall, 'POST /v1/webhooks/bank', (s) => s.kind === 'SERVER');
    const signal = trace.find((s) => s.name === 'SignalWorkflow:bankChargeResult' && isAncestor(webhookRequest, s))!;
    expect(signal).toBeDefined();
    childOf(signal, 'HandleSignal:bankChargeResult');

    // The delivery's workflow, and a status event's NOTIFY with its delivery to the order's live stream.
    const delivery = childOf(childOf(run, 'StartChildWorkflow:deliveryWorkflow'), 'RunWorkflow:deliveryWorkflow');
    expect(delivery.attributes.workflowId).toBe(`delivery-${id}`);
    const notified = trace.filter((s) => s.name.startsWith('notify ') && isAncestor(run, s));
    const delivered = notified.flatMap((n) =>
      trace.filter((s) => s.parentSpanId === n.spanId && s.name.startsWith('deliver ')),
    );
    expect(delivered.length).toBeGreaterThan(0);
    for (const d of delivered)
      expect(d).toMatchObject({ kind: 'CONSUMER', name: parentOf(d)!.name.replace('notify', 'deliver') });

    // Every activity either workflow ran is traced.
    const orderTraces = new Set(
      recorded
        .filter((s) =>
          [`order-${id}`, `delivery-${id}`].includes(
            String(s.attributes.temporalWorkflowId ?? s.attributes.workflowId),
          ),
        )
        .map((s) => s.traceId),
    );
    for (const workflowId of [`order-${id}`, `delivery-${id}`]) {
      const ran = recorded.filter(
        (s) => s.name.startsWith('RunActivity:') && s.attributes.temporalWorkflowId === workflowId,
      );
      const types = await activityTypes(workflowId);
      expect(types.length).toBeGreaterThan(0);
      expect([...new Set(ran.map((s) => s.name.replace('RunActivity:', '')))].sort()).toEqual(types);
    }
    // The order is one trace: each later request from the shop or the driver is a trace of its own, and the update it
    // sends continues the order's trace (under its placement) with a link back to the request.
    expect([...orderTraces]).toEqual([request.traceId]);
    // Since the placement this test's requests are the only ones traced here: all of them are this order's.
    const actionRoutes = recorded.filter(
      (s) => s.kind === 'SERVER' && s.parentSpanId === null && /^POST \/v1\/(orders|deliveries)\/:id\//.test(s.name),
    );
    expect(actionRoutes.map((s) => s.name).sort()).toEqual(
      [
        'POST /v1/deliveries/:id/assign',
        'POST /v1/deliveries/:id/complete',
        'POST /v1/deliveries/:id/pickup',
        'POST /v1/orders/:id/prep',
        'POST /v1/orders/:id/prep',
      ].sort(),
    );
    for (const action of actionRoutes) {
      expect(action.traceId).not.toBe(request.traceId);
      const continued = trace.filter((s) => s.links.some((l) => l.traceId === action.traceId));
      expect(continued, `the update ${action.name} sent, in the order's trace`).toHaveLength(1);
      const linked = byId.get(continued[0]!.links[0]!.spanId)!;
      expect(linked === action || isAncestor(action, linked)).toBe(true);
      expect(continued[0]!.parentSpanId).not.toBeNull();
      expect(trace.some((s) => s.name.startsWith('HandleUpdate:') && isAncestor(continued[0]!, s))).toBe(true);
    }
    // The pickup's activity tells the order workflow with the worker's own client, which carries the trace as well.
    const pickup = trace.find((s) => s.name === 'RunActivity:recordPickup')!;
    childOf(childOf(pickup, 'SignalWorkflow:deliveryProgress'), 'HandleSignal:deliveryProgress');

    // The order's log lines carry the trace of the request they belong to, the placement's among them.
    const requestTraces = new Set(
      recorded.filter((s) => s.kind === 'SERVER' && s.parentSpanId === null).map((s) => s.traceId),
    );
    const orderLines = logLines.filter((line) => line.orderId === id);
    expect(orderLines.length).toBeGreaterThan(0);
    for (const line of orderLines) expect(requestTraces.has(String(line.trace_id)), JSON.stringify(line)).toBe(true);
    expect(orderLines.some((line) => line.trace_id === request.traceId)).toBe(true);

    console.log(
      [
        `The order's trace (${trace.length} spans, ${statements.length} of them database statements, hidden here):`,
        formatSpanTree(trace, { hide: isDatabaseSpan }),
      ].join('\n\n'),
    );

    // The same spans went to the trace file, where `npm run trace` finds the order by its number.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/dev/trace.ts', orderNumber(id), '--file', traceFile],
      { encoding: 'utf8' },
    );
    for (const name of [
      'POST /v1/orders',
      'RunWorkflow:orderWorkflow',
      'bank webhook charge.approved',
      'HandleSignal:bankChargeResult',
    ])
      expect(stdout).toContain(name);
    expect(stdout.match(/^trace [0-9a-f]{32}/gm)).toEqual([`trace ${request.traceId}`]);
  });

  it('records nothing of an order whose caller did not sample its trace, and starts no trace of its own for it', async () => {
    const { customer, place } = await stockedShop('Untraced bun');
    memory.reset();

    // The caller decided not to sample (flags 00): the API continues its decision, and so does everything after.
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const unsampled = `00-${traceId}-0123456789abcdef-00`;
    const id = await place({ traceparent: unsampled });
    // Read the same way, unsampled, so the test's own reads leave nothing either.
    const statusOf = async () =>
      (await stack.api('GET', `/v1/orders/${id}`, { token: customer.token, headers: { traceparent: unsampled } })).body
        .status;
    // Paid: the workflow, its activities, the bank's charge and its webhook back have all run.
    expect(await eventually(statusOf, (s) => s === 'confirmed')).toBe('confirmed');
    // Its workflow ran through the pass-through interceptors without a failed task.
    const history = await stack.client.workflow.getHandle(`order-${id}`).fetchHistory();
    const events = history.events ?? [];
    expect(events.some((e) => e.workflowTaskCompletedEventAttributes)).toBe(true);
    expect(events.filter((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes)).toEqual(
      [],
    );

    await new Promise((r) => setTimeout(r, 500));
    const recorded = spans();
    expect(recorded.filter((s) => s.traceId === traceId).map((s) => s.name)).toEqual([]);
    // Nothing the order ran began a trace of its own either: its workflow's calls carry the unsampled trace on.
    const ordersActivities = new Set(await activityTypes(`order-${id}`));
    expect(ordersActivities).toContain('requestCharge');
    expect(
      recorded
        .filter((s) => s.name.startsWith('RunActivity:') && ordersActivities.has(s.name.slice('RunActivity:'.length)))
        .map((s) => s.name),
    ).toEqual([]);
    expect(recorded.filter((s) => JSON.stringify(s.attributes).includes(id)).map((s) => s.name)).toEqual([]);
  });
});

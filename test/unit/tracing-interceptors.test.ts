import { defaultPayloadConverter, type Headers } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { interceptors, sampledIn } from '../../workflows/tracing-interceptors.js';

const header = (traceparent: string) => ({ '_tracer-data': defaultPayloadConverter.toPayload({ traceparent }) });
const SAMPLED = '00-a1b2c3d4e5f60718293a4b5c6d7e8f90-0123456789abcdef-01';
const UNSAMPLED = '00-a1b2c3d4e5f60718293a4b5c6d7e8f90-0123456789abcdef-00';

describe('the workflow tracing interceptors', () => {
  it('read whether the trace a call carries is sampled', () => {
    expect(sampledIn(header(SAMPLED))).toBe(true);
    expect(sampledIn(header(UNSAMPLED))).toBe(false);
    // Other flags beside sampled.
    expect(sampledIn(header(SAMPLED.replace(/-01$/, '-03')))).toBe(true);
    expect(sampledIn(header(UNSAMPLED.replace(/-00$/, '-02')))).toBe(false);
    expect(sampledIn({})).toBeUndefined();
  });

  it('pass an unsampled run straight through, carrying its trace on to what it starts', async () => {
    const { inbound, outbound, internals } = interceptors();
    const seen: unknown[] = [];
    // One next for every method; each method's own type of it differs only in what it resolves with.
    const next = ((input: unknown) => {
      seen.push(input);
      return Promise.resolve('done');
    }) as never;
    const start = { args: [], headers: header(UNSAMPLED) };
    // Every method forwards to the next interceptor as it is, OpenTelemetry's never being loaded.
    expect(await inbound![0]!.execute!(start, next)).toBe('done');
    expect(seen[0]).toBe(start);
    const activity = { activityType: 'reserveStock', headers: {} as Headers } as never;
    await outbound![0]!.scheduleActivity!(activity, next);
    expect((seen[1] as { headers: Headers }).headers).toEqual(header(UNSAMPLED));
    expect(await outbound![0]!.startChildWorkflowExecution!({ headers: { other: 'x' } } as never, next)).toBe('done');
    expect((seen[2] as { headers: Headers }).headers).toEqual({ other: 'x', ...header(UNSAMPLED) });
    // A signal carrying a sampled trace later changes nothing: the run was decided at its start.
    await inbound![0]!.handleSignal!({ signalName: 's', args: [], headers: header(SAMPLED) }, next);
    await outbound![0]!.scheduleLocalActivity!({ headers: {} } as never, next);
    expect((seen[4] as { headers: Headers }).headers).toEqual(header(UNSAMPLED));
    internals![0]!.dispose!({}, () => seen.push('disposed'));
    expect(seen.at(-1)).toBe('disposed');
  });

  it('leave a run that no trace has reached alone', async () => {
    const { inbound, outbound } = interceptors();
    const seen: unknown[] = [];
    const next = ((input: unknown) => (seen.push(input), Promise.resolve(undefined))) as never;
    await inbound![0]!.execute!({ args: [], headers: {} }, next);
    const activity = { headers: {} } as never;
    await outbound![0]!.scheduleActivity!(activity, next);
    expect(seen[1]).toBe(activity);
  });
});

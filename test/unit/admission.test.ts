// Admission control of order placement: what it admits, queues and refuses, and how its limit follows latency.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AdmissionGate,
  isRefusal,
  type AdmissionSettings,
  type Permit,
  type Refusal,
} from '../../src/api/admission.js';

const settings: AdmissionSettings = {
  initialLimit: 4,
  minLimit: 1,
  maxLimit: 50,
  maxWaitMs: 1_000,
  targetMs: 1_000,
  intervalMs: 500,
};

describe('AdmissionGate', () => {
  let clock = 0;
  let gate: AdmissionGate;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
    gate = new AdmissionGate(settings, () => clock);
  });
  afterEach(() => {
    gate.close();
    vi.useRealTimers();
  });

  const permits = async (n: number) => {
    const out: Permit[] = [];
    for (let i = 0; i < n; i++) {
      const p = await gate.acquire();
      if (isRefusal(p)) throw new Error('refused');
      out.push(p);
    }
    return out;
  };

  it('admits at once while under the limit, and refuses nothing', async () => {
    const held = await permits(4);
    expect(gate.stats()).toMatchObject({ inFlight: 4, queued: 0, refused: 0, admitted: 4 });
    for (const p of held) p.release(50);
    expect(gate.stats().inFlight).toBe(0);
  });

  it('queues past the limit and admits the waiter when a place frees up', async () => {
    const held = await permits(4);
    const waiting = gate.acquire();
    expect(gate.stats().queued).toBe(1);
    held[0]!.release(50);
    const permit = await waiting;
    expect(isRefusal(permit)).toBe(false);
    expect(gate.stats()).toMatchObject({ inFlight: 4, queued: 0 });
  });

  it('refuses a waiter that gets no place within the wait, with a Retry-After of at least a second', async () => {
    await permits(4);
    const waiting = gate.acquire();
    await vi.advanceTimersByTimeAsync(settings.maxWaitMs + 1);
    const answer = await waiting;
    expect(isRefusal(answer) && answer.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(gate.stats()).toMatchObject({ queued: 0, refused: 1 });
  });

  it('refuses at once when the queue is already longer than can drain within the wait', async () => {
    await permits(4);
    const queued = Array.from({ length: 4 }, () => gate.acquire());
    expect(gate.stats().queued).toBe(4);
    const answer = await gate.acquire();
    expect(isRefusal(answer)).toBe(true);
    expect(gate.stats().queued).toBe(4);
    await vi.advanceTimersByTimeAsync(settings.maxWaitMs + 1);
    expect((await Promise.all(queued)).every(isRefusal)).toBe(true);
  });

  it('frees the place of a request that ended without placing, without counting it as a placement', async () => {
    const held = await permits(4);
    const waiting = gate.acquire();
    // Answered by its own checks: the place frees up for the waiter, and no latency joins the limit's judgement.
    held[0]!.release();
    held[0]!.release(5_000);
    expect(isRefusal(await waiting)).toBe(false);
    expect(gate.stats()).toMatchObject({ inFlight: 4, queued: 0, floorMs: undefined });
  });

  it('asks refused clients to stay away longer while it keeps turning a crowd away, and only the queue again once it stops', async () => {
    // A slow drain: one placement per interval.
    const held = await permits(4);
    const retryAfters: number[] = [];
    for (let round = 0; round < 6; round++) {
      // A full queue, and twenty clients beyond it, each refused at once.
      const queued = Array.from({ length: 4 }, () => gate.acquire());
      for (let i = 0; i < 20; i++) {
        const answer = await gate.acquire();
        if (!isRefusal(answer)) throw new Error('admitted past the limit');
        retryAfters.push(answer.retryAfterSeconds);
      }
      await vi.advanceTimersByTimeAsync(settings.maxWaitMs + 1);
      expect((await Promise.all(queued)).every(isRefusal)).toBe(true);
      held.shift()!.release(100);
      held.push(...(await permits(1)));
      await vi.advanceTimersByTimeAsync(settings.intervalMs);
    }
    // At first only the queue counts: four waiters at a drain of at most one a second.
    expect(retryAfters[0]).toBe(4);
    expect(retryAfters.at(-1)).toBe(10);
    // Nobody turned away for a while: the estimate of who is waiting to come back fades.
    for (let i = 0; i < 40; i++) await vi.advanceTimersByTimeAsync(settings.intervalMs);
    const queued = Array.from({ length: 4 }, () => gate.acquire());
    const answer = await gate.acquire();
    expect(isRefusal(answer) && answer.retryAfterSeconds).toBe(4);
    await vi.advanceTimersByTimeAsync(settings.maxWaitMs + 1);
    await Promise.all(queued);
  });

  it('judges the wait by what the places can take when full, not by a drain that few returning clients keep low', async () => {
    // Quick placements fill the limit: four places at 100 ms take forty a second.
    for (let i = 0; i < 3; i++) {
      for (const p of await permits(4)) p.release(100);
      await vi.advanceTimersByTimeAsync(settings.intervalMs);
    }
    await permits(gate.limit);
    // Waiters until the queue is as long as can drain within the wait; the next one is refused at once.
    const queued: Promise<Permit | Refusal>[] = [];
    for (let before = -1; gate.stats().queued > before;) {
      before = gate.stats().queued;
      queued.push(gate.acquire());
    }
    let last = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20; i++) {
        const before = gate.stats().queued;
        const answer = gate.acquire();
        // Once the first waiters' wait is over there is room in the queue again.
        if (gate.stats().queued > before) queued.push(answer);
        else last = ((await answer) as Refusal).retryAfterSeconds;
      }
      await vi.advanceTimersByTimeAsync(settings.intervalMs);
    }
    // Twenty turned away twice a second and a few waiting, at forty a second: back within a couple of seconds.
    expect(last).toBeGreaterThanOrEqual(1);
    expect(last).toBeLessThanOrEqual(2);
    await vi.advanceTimersByTimeAsync(settings.maxWaitMs + 1);
    await Promise.all(queued);
  });

  it('shrinks the limit when placements grow slow against their idle floor, and grows it back when demand fills it', async () => {
    // The idle floor: quick placements.
    for (const p of await permits(4)) p.release(100);
    vi.advanceTimersByTime(settings.intervalMs);
    // Demand fills the limit and latency stays near the floor: the limit grows.
    const before = gate.limit;
    const full = await permits(before);
    for (const p of full) p.release(120);
    vi.advanceTimersByTime(settings.intervalMs);
    expect(gate.limit).toBeGreaterThan(before);
    // Demand fills it again and latency climbs far above the floor: the limit shrinks.
    const grown = gate.limit;
    for (const p of await permits(grown)) p.release(900);
    vi.advanceTimersByTime(settings.intervalMs);
    expect(gate.limit).toBeLessThan(grown);
  });

  it('leaves a limit that demand does not reach alone while placements stay within the target', async () => {
    for (const p of await permits(4)) p.release(100);
    vi.advanceTimersByTime(settings.intervalMs);
    const before = gate.limit;
    // Slow against the floor, but only three at once under a higher limit: the load is elsewhere.
    for (let i = 0; i < 10; i++) {
      for (const p of await permits(3)) p.release(900);
      vi.advanceTimersByTime(settings.intervalMs);
    }
    expect(gate.limit).toBe(before);
    expect(gate.stats().refused).toBe(0);
  });

  it('shrinks the limit when placements pass the absolute target even on a slow floor', async () => {
    for (const p of await permits(4)) p.release(900);
    vi.advanceTimersByTime(settings.intervalMs);
    const before = gate.limit;
    clock += 60_000;
    for (const p of await permits(3)) p.release(1_500);
    vi.advanceTimersByTime(settings.intervalMs);
    expect(gate.limit).toBeLessThan(before);
  });

  it('never grows the limit without demand, nor past its bounds', async () => {
    for (let i = 0; i < 20; i++) {
      for (const p of await permits(2)) p.release(100);
      vi.advanceTimersByTime(settings.intervalMs);
    }
    expect(gate.limit).toBe(settings.initialLimit);
    for (let i = 0; i < 40; i++) {
      // One at a time, so a limit of one still admits each.
      for (let k = 0; k < 3; k++) (await permits(1))[0]!.release(5_000);
      vi.advanceTimersByTime(settings.intervalMs);
    }
    expect(gate.limit).toBe(settings.minLimit);
  });
});

// Admission control for order placement. A placement is an update-with-start: it waits for the worker to run the
// order's first steps, so its latency is the system's queueing delay. The gate lets a limited number run at once and
// adapts that limit to their latency (additive increase while latency stays near its idle floor, multiplicative
// decrease once it climbs), and a request that cannot get a place within a short wait is refused at once with
// 503 overloaded and Retry-After. Past its peak the system keeps completing at its peak instead of queueing without
// bound, and below the peak nothing waits, so nothing is refused.

export interface AdmissionSettings {
  /** Placements allowed at once when the process starts, and the bounds the limit moves within. */
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** The longest a placement waits for a place before it is refused. */
  maxWaitMs: number;
  /** Placement latency above which the limit shrinks, whatever the idle latency. */
  targetMs: number;
  /** How often the limit is reconsidered. */
  intervalMs: number;
}

export const DEFAULT_ADMISSION: AdmissionSettings = {
  initialLimit: 20,
  minLimit: 2,
  maxLimit: 500,
  // Short, so that a placement's answer stays within 2 s at p99 with the wait and the placement's own latency.
  maxWaitMs: 500,
  // The median placement; its tail runs to about two and a half times the median under load, so p99 stays near 2 s.
  targetMs: 800,
  intervalMs: 500,
};

export interface Permit {
  /**
   * Gives the place back; `latencyMs` is how long the placement took once admitted. A request that ended without
   * placing (refused by its own checks, or answered from its idempotency key) gives no latency. Only the first
   * release counts.
   */
  release(latencyMs?: number): void;
}

export interface Refusal {
  refused: true;
  /** Seconds the client should wait before trying again. */
  retryAfterSeconds: number;
}

export interface AdmissionStats {
  limit: number;
  inFlight: number;
  queued: number;
  admitted: number;
  refused: number;
  /** The idle floor of placement latency the limit is judged against, in ms (undefined before any placement). */
  floorMs: number | undefined;
}

interface Waiter {
  grant(permit: Permit): void;
  timer: NodeJS.Timeout;
}

/** The floor of latency: the lowest placement seen over the last `buckets` × `bucketMs`, so it follows a slower machine. */
class SlidingMin {
  private readonly mins: number[] = [];
  private bucketStart = 0;
  constructor(
    private readonly bucketMs: number,
    private readonly buckets: number,
  ) {}
  add(value: number, now: number): void {
    if (this.mins.length === 0 || now - this.bucketStart >= this.bucketMs) {
      this.mins.push(value);
      this.bucketStart = now;
      if (this.mins.length > this.buckets) this.mins.shift();
    } else {
      this.mins[this.mins.length - 1] = Math.min(this.mins[this.mins.length - 1]!, value);
    }
  }
  get value(): number | undefined {
    return this.mins.length === 0 ? undefined : Math.min(...this.mins);
  }
}

export class AdmissionGate {
  private limitValue: number;
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  private latencies: number[] = [];
  /** Whether demand reached the limit since the last adjustment: only then is a higher limit worth trying. */
  private saturated = false;
  private completedInInterval = 0;
  private drainPerSecond = 0;
  /** The median placement latency of the last interval that had some, in ms. */
  private medianMs: number | undefined;
  private refusedInInterval = 0;
  private refusedPerSecond = 0;
  /** The Retry-After last given, in seconds: how long a refused client stays away. */
  private lastRetryAfter = 1;
  private admitted = 0;
  private refusedCount = 0;
  private readonly floor = new SlidingMin(5_000, 6);
  private readonly ticker: NodeJS.Timeout;

  constructor(
    private readonly settings: AdmissionSettings = DEFAULT_ADMISSION,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.limitValue = settings.initialLimit;
    this.ticker = setInterval(() => this.adjust(), settings.intervalMs);
    this.ticker.unref();
  }

  /** A place to run a placement, or a refusal when none came free within the wait. */
  acquire(): Promise<Permit | Refusal> {
    if (this.inFlight < this.limitValue && this.queue.length === 0) return Promise.resolve(this.grant());
    this.saturated = true;
    // A queue longer than the places that can free up within the wait is refused now rather than after the wait.
    const canDrain = Math.max(this.limitValue, (this.drainPerSecond * this.settings.maxWaitMs) / 1000);
    if (this.queue.length >= canDrain) return Promise.resolve(this.refuse());
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: (permit) => {
          clearTimeout(waiter.timer);
          resolve(permit);
        },
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          resolve(this.refuse());
        }, this.settings.maxWaitMs),
      };
      this.queue.push(waiter);
    });
  }

  get limit(): number {
    return this.limitValue;
  }

  stats(): AdmissionStats {
    return {
      limit: this.limitValue,
      inFlight: this.inFlight,
      queued: this.queue.length,
      admitted: this.admitted,
      refused: this.refusedCount,
      floorMs: this.floor.value,
    };
  }

  close(): void {
    clearInterval(this.ticker);
  }

  private grant(): Permit {
    this.inFlight++;
    this.admitted++;
    if (this.inFlight >= this.limitValue) this.saturated = true;
    let released = false;
    return {
      release: (latencyMs) => {
        if (released) return;
        released = true;
        this.inFlight--;
        if (latencyMs !== undefined) {
          this.completedInInterval++;
          this.latencies.push(latencyMs);
          this.floor.add(latencyMs, this.now());
        }
        this.admitNext();
      },
    };
  }

  private admitNext(): void {
    while (this.inFlight < this.limitValue && this.queue.length > 0) this.queue.shift()!.grant(this.grant());
  }

  /**
   * Retry-After: how long until the places could serve the queue and the clients already turned away, who come back
   * (by Little's law about refusedPerSecond × the time each stays away of them are out there). The rate is what the
   * places can take when full (the limit over the median placement), not what drained lately: while few come back the
   * drain is low, and a wait judged by it would keep them away longer still and leave the places empty.
   */
  private refuse(): Refusal {
    this.refusedCount++;
    this.refusedInInterval++;
    const canTake = this.medianMs === undefined ? 0 : (this.limitValue * 1000) / Math.max(this.medianMs, 1);
    const rate = Math.max(this.drainPerSecond, canTake, 1);
    const away = Math.floor(this.refusedPerSecond * (this.lastRetryAfter + this.settings.maxWaitMs / 1000));
    const retryAfterSeconds = Math.min(10, Math.max(1, Math.ceil((this.queue.length + away) / rate)));
    this.lastRetryAfter = retryAfterSeconds;
    return { refused: true, retryAfterSeconds };
  }

  /** Once an interval: shrink the limit when placements got slow, grow it when demand filled it and they did not. */
  adjust(): void {
    const seconds = this.settings.intervalMs / 1000;
    this.drainPerSecond = 0.7 * this.drainPerSecond + 0.3 * (this.completedInInterval / seconds);
    this.completedInInterval = 0;
    this.refusedPerSecond = 0.7 * this.refusedPerSecond + 0.3 * (this.refusedInInterval / seconds);
    this.refusedInInterval = 0;
    const latencies = this.latencies.sort((a, b) => a - b);
    this.latencies = [];
    const saturated = this.saturated;
    this.saturated = this.inFlight >= this.limitValue || this.queue.length > 0;
    if (latencies.length < 3) return;
    const median = latencies[Math.floor(latencies.length / 2)]!;
    this.medianMs = median;
    const floor = this.floor.value ?? median;
    // Queueing at the gate shows as latency well above the idle floor while demand fills the limit; slow placements
    // under a limit nobody reaches are the system's load, not the gate's, and a smaller limit would only refuse. The
    // absolute target bounds what a client waits either way.
    const queueing = saturated && median > Math.max(2 * floor, floor + 250);
    if (queueing || median > this.settings.targetMs) {
      this.limitValue = Math.max(this.settings.minLimit, Math.floor(this.limitValue * 0.8));
    } else if (saturated) {
      this.limitValue = Math.min(
        this.settings.maxLimit,
        this.limitValue + Math.max(1, Math.floor(this.limitValue / 10)),
      );
      this.admitNext();
    }
  }
}

export const isRefusal = (value: Permit | Refusal): value is Refusal => 'refused' in value;

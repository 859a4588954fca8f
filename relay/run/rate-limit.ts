/**
 * Hits per key in a sliding window, kept in the run object's memory. Not in storage: a
 * callback must not cost a storage write for its count, and an object that is evicted
 * (idle, or a redeploy) forgetting its counts only ever errs toward admitting.
 */
import { MAX_CALLBACKS_PER_GATE_PER_MINUTE } from '../../shared/protocol.ts';

export class SlidingWindow {
  private readonly limit: number;
  private readonly windowMs: number;
  /** Admitted hits per key, oldest first. Keys are a run's gate ids: at most MAX_GATES_PER_RUN. */
  private readonly hits = new Map<string, number[]>();

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /**
   * Counts a hit on `key` and returns 0; or, when `limit` hits already fell in the last
   * window, counts nothing and returns the whole seconds until the oldest leaves it.
   */
  take(key: string, now: number = Date.now()): number {
    const recent = (this.hits.get(key) ?? []).filter((at) => at > now - this.windowMs);
    const oldest = recent[0];
    if (oldest !== undefined && recent.length >= this.limit) {
      this.hits.set(key, recent);
      return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
    }
    recent.push(now);
    this.hits.set(key, recent);
    return 0;
  }
}

/**
 * POSTs per gate a minute: decisions (callback URI and approval page) and progress reports
 * each have their own budget, so reports never use up the decision's.
 */
export class GatePosts {
  private readonly windows = {
    decision: new SlidingWindow(MAX_CALLBACKS_PER_GATE_PER_MINUTE, 60_000),
    progress: new SlidingWindow(MAX_CALLBACKS_PER_GATE_PER_MINUTE, 60_000),
  };

  /** SlidingWindow.take on the gate's budget of `kind`: 0, or the seconds to wait. */
  take(gateId: string, kind: 'decision' | 'progress'): number {
    return this.windows[kind].take(gateId);
  }
}

/** The sliding window of relay/run/rate-limit.ts, on a clock the test sets. */
import { describe, expect, it } from 'vitest';
import { SlidingWindow } from '../../../relay/run/rate-limit.ts';

describe('SlidingWindow', () => {
  it('admits `limit` hits per window and names the wait for the next', () => {
    const window = new SlidingWindow(3, 60_000);
    expect([window.take('a', 0), window.take('a', 10_000), window.take('a', 20_000)]).toEqual([0, 0, 0]);
    expect(window.take('a', 30_000)).toBe(30);
    expect(window.take('a', 59_500)).toBe(1);
    // The oldest hit (at 0) leaves the window after 60 s; refused hits were never counted.
    expect(window.take('a', 60_001)).toBe(0);
    expect(window.take('a', 60_002)).toBe(10);
  });

  it('counts every key on its own', () => {
    const window = new SlidingWindow(1, 60_000);
    expect(window.take('a', 0)).toBe(0);
    expect(window.take('b', 0)).toBe(0);
    expect(window.take('a', 1)).toBeGreaterThan(0);
  });
});

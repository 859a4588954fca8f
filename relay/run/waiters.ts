/**
 * In-memory long-polls of one Durable Object: a waiter is a promise resolved by
 * the next `wake` of its key or at the end of its window, never by a polling loop.
 * They live only as long as the object; a woken or timed-out poll holds nothing.
 */
export class Waiters<T> {
  private readonly byKey = new Map<string, Set<(value: T) => void>>();

  /** Resolves with the value of the next `wake(key)`, or with `onTimeout()` after `windowMs`. */
  wait(key: string, windowMs: number, onTimeout: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      const waiters = this.byKey.get(key) ?? new Set();
      this.byKey.set(key, waiters);
      const wake = (value: T): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0) this.byKey.delete(key);
        resolve(value);
      };
      const timer = setTimeout(() => wake(onTimeout()), windowMs);
      waiters.add(wake);
    });
  }

  /** Resolves every poll waiting on `key` with `value`. */
  wake(key: string, value: T): void {
    for (const wake of [...(this.byKey.get(key) ?? [])]) wake(value);
  }
}

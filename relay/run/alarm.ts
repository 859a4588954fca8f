/**
 * The run object's single alarm, re-armed for the nearest thing due: a pending gate's
 * deadline, else the time the run's storage is to be deleted (relay/run/retention.ts).
 */
import type { RunStore } from './store.ts';

/**
 * While a gate is pending, its deadline: the run is never deleted under it. Otherwise the
 * run's last activity plus the retention time; null when the run has stored nothing.
 */
export function nextAlarm(store: RunStore, retentionMs: number): number | null {
  const deadline = store.nextDeadline();
  if (deadline !== null) return deadline;
  const last = store.lastActivity();
  return last === null ? null : last + retentionMs;
}

/** True when nothing waits and nothing was written for `retentionMs`: the run may be deleted. */
export function expired(store: RunStore, retentionMs: number, now: number): boolean {
  if (store.hasPending()) return false;
  const last = store.lastActivity();
  return last === null || last + retentionMs <= now;
}

export class AlarmClock {
  private readonly storage: DurableObjectStorage;
  /**
   * The alarm time this instance last set or read; undefined until known. Remembered so most
   * writes skip the storage round trip of getAlarm (about 5% of a callback's CPU in the bench).
   */
  private armed: number | null | undefined = undefined;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
  }

  /** An alarm that fired, or was deleted with the run's storage, is no longer set. */
  forget(): void {
    this.armed = null;
  }

  /** Sets the alarm to `at` (null: none) unless it is set there already. */
  async arm(at: number | null): Promise<void> {
    if (this.armed === undefined) this.armed = await this.storage.getAlarm();
    if (at === this.armed) return;
    if (at === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(at);
    this.armed = at;
  }
}

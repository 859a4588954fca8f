/**
 * What a test file's set-up started (relays, browsers, fake servers, temp dirs), so nothing
 * outlives it: a start that fails stops the ones before it, and `stopAll` stops the rest.
 */
export class Started {
  #stops: (() => Promise<unknown>)[] = [];

  /** Starts one more thing; when `start` fails, stops everything started so far, then rethrows. */
  async add<T>(start: () => Promise<T>, stop: (value: T) => Promise<unknown>): Promise<T> {
    let value: T;
    try {
      value = await start();
    } catch (error) {
      await this.stopAll().catch(() => undefined); // the start's own error is the one to report
      throw error;
    }
    this.#stops.push(() => stop(value));
    return value;
  }

  /** Stops everything started, newest first, each even when another fails; again it does nothing. */
  async stopAll(): Promise<void> {
    const stops = this.#stops.reverse();
    this.#stops = [];
    const errors: unknown[] = [];
    for (const stop of stops) await stop().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} of ${stops.length} stops failed`);
  }
}

/**
 * Set-up that leaves nothing running: what a test file starts in its `beforeAll` is stopped
 * when a later start fails, and by `afterAll` otherwise.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { Started } from './started.ts';

describe('Started', () => {
  it('stops the real relay it started when the next start fails, and rethrows that failure', async () => {
    const started = new Started();
    let harness: Harness | undefined;
    const setUp = async (): Promise<void> => {
      harness = await started.add(() => startHarness({ ownRelay: {} }), (h) => h.close());
      await started.add(() => Promise.reject(new Error('Chromium would not start')), () => Promise.resolve());
    };
    await expect(setUp()).rejects.toThrow('Chromium would not start');
    if (!harness) throw new Error('the relay did not start');
    // Nothing answers on the relay's port any more, and its state directory is gone.
    await expect(fetch(`${harness.relay.url}/healthz`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    expect(existsSync(harness.stateDir)).toBe(false);
    await started.stopAll(); // afterAll after a failed beforeAll: nothing left to stop
  });

  it('stops everything newest first, keeps going past a failing stop, then reports it; a second stopAll does nothing', async () => {
    const started = new Started();
    const stopped: string[] = [];
    const thing = (name: string, stopFails = false) =>
      started.add(
        () => Promise.resolve(name),
        (value) => {
          stopped.push(value);
          return stopFails ? Promise.reject(new Error(`${value} would not stop`)) : Promise.resolve();
        },
      );
    expect([await thing('relay'), await thing('fake GitHub', true), await thing('browser')]).toEqual(['relay', 'fake GitHub', 'browser']);
    await expect(started.stopAll()).rejects.toThrow('1 of 3 stops failed');
    expect(stopped).toEqual(['browser', 'fake GitHub', 'relay']);
    await started.stopAll();
    expect(stopped).toHaveLength(3);
  });

  it('reports the failed start, not a stop that failed while cleaning up after it', async () => {
    const started = new Started();
    await started.add(
      () => Promise.resolve('relay'),
      () => Promise.reject(new Error('stuck')),
    );
    await expect(started.add(() => Promise.reject(new Error('port taken')), () => Promise.resolve())).rejects.toThrow('port taken');
  });
});

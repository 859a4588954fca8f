import { describe, expect, it } from 'vitest';
import { pauseStep } from '../../../action/effects/pause.ts';
import { pause, target } from '../fakes.ts';
import { harness } from './harness.ts';

const item = pause(90);

describe('pauseStep', () => {
  it('sleeps on the clock and succeeds', async () => {
    const h = harness();
    const step = await pauseStep(h.ctx, target('staging'), 'strategy', item, new AbortController().signal);
    expect(h.clock.sleeps).toEqual([90_000]);
    expect(step).toMatchObject({ kind: 'pause', name: '1m 30s', phase: 'strategy', state: 'succeeded', message: null });
    expect(step.end).toBe(new Date(Date.parse(step.start) + 90_000).toISOString());
    expect(h.story()).toEqual(['[staging] Pausing 1m 30s (strategy)']);
  });

  it('ends canceled with the reason once the signal aborts', async () => {
    const h = harness();
    const run = new AbortController();
    run.abort(new Error('the workflow job was canceled'));
    const step = await pauseStep(h.ctx, target('staging'), 'beforeDeployment', item, run.signal);
    expect(step).toMatchObject({ state: 'canceled', message: 'canceled: the workflow job was canceled' });
  });
});

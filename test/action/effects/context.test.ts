import { describe, expect, it } from 'vitest';
import { target } from '../fakes.ts';
import { harness } from './harness.ts';

describe('createContext', () => {
  it('tells the target’s story as `[target] message` lines', () => {
    const h = harness();
    h.ctx.say(target('prod'), 'deployed');
    expect(h.log.lines).toEqual(['info: [prod] deployed']);
  });

  it('builds a step ending now on its clock, with no progress by default', () => {
    const h = harness();
    const started = h.clock.now();
    h.clock.advance(2000);
    expect(h.ctx.step('pause', '2s', 'strategy', started, 'succeeded', null)).toEqual({
      kind: 'pause',
      name: '2s',
      phase: 'strategy',
      state: 'succeeded',
      message: null,
      progress: [],
      start: new Date(started).toISOString(),
      end: new Date(started + 2000).toISOString(),
    });
  });

  it('takes the run attempt from GITHUB_RUN_ATTEMPT', () => {
    const base = harness().ctx.settings.github;
    expect(harness({ settings: { github: { ...base, runAttempt: '2' } } }).ctx.attempt).toBe(2);
  });
});

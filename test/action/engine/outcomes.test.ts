import { describe, expect, it } from 'vitest';
import { onStepFailure, outcomeAfterRollback, schedule } from '../../../action/engine/outcomes.ts';
import type { TargetOutcome } from '../../../action/engine/report.ts';
import { target } from '../fakes.ts';

const none = new Set<string>();
const finished = (entries: Record<string, TargetOutcome>): Map<string, TargetOutcome> => new Map(Object.entries(entries));

// staging → prod-eu → prod-us (a chain); qa → docs (an independent branch).
const targets = [
  target('staging'),
  target('qa'),
  target('prod-eu', { dependsOn: ['staging'] }),
  target('docs', { dependsOn: ['qa'] }),
  target('prod-us', { dependsOn: ['prod-eu'] }),
];

describe('schedule', () => {
  it('starts every target without dependencies at once', () => {
    expect(schedule(targets, new Map(), none)).toEqual({ start: ['staging', 'qa'], cancel: [] });
  });

  it('neither starts nor cancels what is running or finished', () => {
    const next = schedule(targets, finished({ staging: 'succeeded' }), new Set(['qa']));
    expect(next).toEqual({ start: ['prod-eu'], cancel: [] });
  });

  it('starts a target only when every dependency succeeded', () => {
    const both = [target('a'), target('b'), target('c', { dependsOn: ['a', 'b'] })];
    expect(schedule(both, finished({ a: 'succeeded' }), new Set(['b'])).start).toEqual([]);
    expect(schedule(both, finished({ a: 'succeeded', b: 'succeeded' }), none).start).toEqual(['c']);
  });

  it('cancels a whole chain in one pass and leaves the independent branch alone', () => {
    const next = schedule(targets, finished({ staging: 'failed' }), new Set(['qa']));
    expect(next.start).toEqual([]);
    expect(next.cancel).toEqual([
      { target: 'prod-eu', reason: 'upstream target staging failed' },
      { target: 'prod-us', reason: 'upstream target prod-eu was canceled' },
    ]);
  });

  it('cancels as soon as one dependency did not succeed, even while another still runs', () => {
    const both = [target('a'), target('b'), target('c', { dependsOn: ['a', 'b'] })];
    expect(schedule(both, finished({ b: 'rolled-back' }), new Set(['a']))).toEqual({
      start: [],
      cancel: [{ target: 'c', reason: 'upstream target b was rolled back' }],
    });
  });

  it('names the upstream outcome: failed, rolled back or canceled', () => {
    const reasons = (outcome: TargetOutcome): string[] =>
      schedule([target('a'), target('b', { dependsOn: ['a'] })], finished({ a: outcome }), none).cancel.map((c) => c.reason);
    expect(reasons('failed')).toEqual(['upstream target a failed']);
    expect(reasons('rolled-back')).toEqual(['upstream target a was rolled back']);
    expect(reasons('canceled')).toEqual(['upstream target a was canceled']);
    expect(reasons('succeeded')).toEqual([]);
  });

  it('cancels every dependent of a diamond once and starts the rest of the layer', () => {
    const diamond = [
      target('base'),
      target('left', { dependsOn: ['base'] }),
      target('right', { dependsOn: ['base'] }),
      target('top', { dependsOn: ['left', 'right'] }),
      target('side'),
    ];
    const next = schedule(diamond, finished({ base: 'failed' }), none);
    expect(next.start).toEqual(['side']);
    expect(next.cancel.map((c) => c.target)).toEqual(['left', 'right', 'top']);
  });

  it('does not mutate the finished map it was given', () => {
    const done = finished({ staging: 'failed' });
    schedule(targets, done, none);
    expect([...done.keys()]).toEqual(['staging']);
  });
});

describe('onStepFailure', () => {
  it('fails the target before the deploy and after it, and rolls back in between', () => {
    expect(onStepFailure('beforeDeployment')).toBe('fail');
    expect(onStepFailure('deploy')).toBe('rollback');
    expect(onStepFailure('strategy')).toBe('rollback');
    expect(onStepFailure('afterDeployment')).toBe('fail');
    expect(onStepFailure('rollback')).toBe('fail');
  });
});

describe('outcomeAfterRollback', () => {
  it('is rolled-back when the rollback ran, failed when the rollback itself failed', () => {
    expect(outcomeAfterRollback(true)).toBe('rolled-back');
    expect(outcomeAfterRollback(false)).toBe('failed');
  });
});

import { describe, expect, it } from 'vitest';
import {
  canceledEnding,
  describeFailure,
  endOfGateModeJob,
  failedEnding,
  finalCanaryWeight,
  gateModeEnding,
  onStepFailure,
  recordsOutcome,
  rollbackEnding,
  schedule,
} from '../../../action/engine/outcomes.ts';
import type { GateMode } from '../../../action/engine/effects.ts';
import type { StepPhase, StepReport, TargetOutcome } from '../../../action/engine/report.ts';
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
      { target: 'prod-eu', reason: 'upstream target staging failed', outcome: 'canceled' },
      { target: 'prod-us', reason: 'upstream target prod-eu was canceled', outcome: 'canceled' },
    ]);
  });

  it('cancels as soon as one dependency did not succeed, even while another still runs', () => {
    const both = [target('a'), target('b'), target('c', { dependsOn: ['a', 'b'] })];
    expect(schedule(both, finished({ b: 'rolled-back' }), new Set(['a']))).toEqual({
      start: [],
      cancel: [{ target: 'c', reason: 'upstream target b was rolled back', outcome: 'canceled' }],
    });
  });

  it('parks what depends on a parked target, the whole chain; a failed dependency still cancels', () => {
    const next = schedule(targets, finished({ staging: 'parked' }), new Set(['qa']));
    expect(next.start).toEqual([]);
    expect(next.cancel).toEqual([
      { target: 'prod-eu', reason: 'upstream target staging is parked', outcome: 'parked' },
      { target: 'prod-us', reason: 'upstream target prod-eu is parked', outcome: 'parked' },
    ]);
    const both = [target('a'), target('b'), target('c', { dependsOn: ['a', 'b'] })];
    expect(schedule(both, finished({ a: 'parked', b: 'failed' }), none).cancel).toEqual([
      { target: 'c', reason: 'upstream target b failed', outcome: 'canceled' },
    ]);
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

describe('describeFailure', () => {
  it.each<[Pick<StepReport, 'kind' | 'name' | 'state' | 'message'>, string]>([
    [{ kind: 'webhook', name: 'Tests', state: 'failed', message: '3 tests failed' }, 'webhook Tests failed: 3 tests failed'],
    [{ kind: 'webhook', name: 'Tests', state: 'timed-out', message: null }, 'webhook Tests timed out'],
    [{ kind: 'approval', name: 'manual approval', state: 'canceled', message: '' }, 'approval manual approval canceled'],
    [{ kind: 'command', name: 'deploy', state: 'failed', message: 'exited with 1' }, 'command deploy failed: exited with 1'],
  ])('%o → %s', (step, text) => {
    expect(describeFailure(step)).toBe(text);
  });
});

describe('the end of a target', () => {
  it.each<[StepPhase, string]>([
    ['beforeDeployment', 'staging not deployed: beforeDeployment webhook X failed'],
    ['afterDeployment', 'staging kept as deployed; its dependents are canceled: afterDeployment webhook X failed'],
  ])('failedEnding after %s', (phase, message) => {
    expect(failedEnding('staging', phase, 'webhook X failed')).toEqual({ outcome: 'failed', message });
  });

  it.each<[boolean, TargetOutcome, string, boolean]>([
    [true, 'rolled-back', 'staging rolled back: strategy webhook X failed', false],
    [false, 'failed', 'staging failed, and so did its rollback: strategy webhook X failed', true],
  ])('rollbackEnding with the rollback succeeded=%s', (succeeded, outcome, message, rollbackFailed) => {
    expect(rollbackEnding('staging', 'strategy', 'webhook X failed', succeeded)).toEqual({ outcome, message, rollbackFailed });
  });

  it.each<[StepPhase, string]>([
    ['beforeDeployment', 'nothing was deployed'],
    ['deploy', 'no rollback ran, so it may be partly deployed'],
    ['strategy', 'no rollback ran, so it may be partly deployed'],
    ['afterDeployment', 'it stays as deployed'],
  ])('canceledEnding during %s: %s', (phase, state) => {
    expect(canceledEnding('prod', phase, 'the job was canceled')).toEqual({
      outcome: 'canceled',
      message: `prod canceled during ${phase} (the job was canceled): ${state}`,
    });
  });

  it.each<[GateMode, string | null, TargetOutcome, string]>([
    ['beforeDeployment', null, 'succeeded', 'prod passed its beforeDeployment gates: the deployment may proceed'],
    ['afterDeployment', null, 'succeeded', 'prod passed its afterDeployment gates: the target is deployed'],
    ['beforeDeployment', 'webhook X failed', 'failed', 'prod must not be deployed: beforeDeployment webhook X failed'],
    [
      'afterDeployment',
      'webhook X failed',
      'failed',
      'prod failed its afterDeployment gates; its dependents are canceled: afterDeployment webhook X failed',
    ],
  ])('gateModeEnding %s, failure %s', (mode, why, outcome, message) => {
    expect(gateModeEnding('prod', mode, why)).toEqual({ outcome, message });
  });

  it.each<[GateMode | null, TargetOutcome, boolean]>([
    [null, 'succeeded', true],
    [null, 'failed', true],
    ['beforeDeployment', 'succeeded', false],
    ['beforeDeployment', 'failed', true],
    ['beforeDeployment', 'canceled', true],
    ['afterDeployment', 'succeeded', true],
  ])('recordsOutcome in mode %s after %s: %s', (mode, outcome, records) => {
    expect(recordsOutcome(mode, outcome)).toBe(records);
  });

  it.each<[number, number | null]>([
    [0, 100],
    [50, 100],
    [100, null],
  ])('finalCanaryWeight after weight %d: %s', (weight, next) => {
    expect(finalCanaryWeight(weight)).toBe(next);
  });
});

describe('endOfGateModeJob (a target a beforeDeployment gate step left running at the end of its job)', () => {
  it.each<[boolean, 'succeeded' | 'failed']>([
    // No afterDeployment step will ever come: the job's end is the target's end.
    [false, 'succeeded'],
    // The afterDeployment step should have recorded it: the job ended between the two steps.
    [true, 'failed'],
  ])('with afterDeployment gates in the file: %s → %s', (hasAfterDeployment, outcome) => {
    expect(endOfGateModeJob('staging', hasAfterDeployment).outcome).toBe(outcome);
  });
});

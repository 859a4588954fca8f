import { describe, expect, it } from 'vitest';
import { runTarget } from '../../../action/engine/target.ts';
import { FakeEffects, canary, pause, setWeight, target, webhook } from '../fakes.ts';

const live = (): AbortSignal => new AbortController().signal;

describe('canary: weight', () => {
  it('ends a canary whose last step is setWeight 50 with a setWeight 100', async () => {
    const fx = new FakeEffects();
    const report = await runTarget(target('staging', { strategy: canary(setWeight(25), webhook('Health'), setWeight(50)) }), fx, live());
    expect(fx.calls.filter((c) => c.includes('setWeight'))).toEqual([
      'staging command strategy setWeight 25',
      'staging command strategy setWeight 50',
      'staging command strategy setWeight 100',
    ]);
    expect(report.steps.at(-1)).toMatchObject({ phase: 'strategy', name: 'setWeight 100', state: 'succeeded' });
  });

  it('adds no setWeight when the weight is already 100, even with steps after it', async () => {
    const fx = new FakeEffects();
    await runTarget(target('staging', { strategy: canary(setWeight(100), pause(30)) }), fx, live());
    expect(fx.calls.filter((c) => c.includes('setWeight'))).toEqual(['staging command strategy setWeight 100']);
  });

  it('sets the weight to 100 after a canary without any setWeight step', async () => {
    const fx = new FakeEffects();
    await runTarget(target('staging', { strategy: canary(webhook('Health')) }), fx, live());
    expect(fx.calls.at(-1)).toBe('staging command strategy setWeight 100');
  });

  it('rolls back when the final setWeight 100 fails', async () => {
    const fx = new FakeEffects();
    fx.failingCommands.add('staging:setWeight 100');
    const report = await runTarget(target('staging', { strategy: canary(setWeight(50)) }), fx, live());
    expect(fx.calls.at(-1)).toBe('staging command rollback rollback');
    expect(report.outcome).toBe('rolled-back');
  });
});


describe('canary: a failed step rolls back', () => {
  it('rolls back when a canary gate fails, and skips the rest of the strategy and afterDeployment', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Health', 'failed');
    const report = await runTarget(
      target('staging', { strategy: canary(setWeight(25), webhook('Health'), setWeight(50)), afterDeployment: [webhook('Tests')] }),
      fx,
      live(),
    );
    expect(fx.calls).toEqual([
      'staging command deploy deploy',
      'staging command strategy setWeight 25',
      'staging gate strategy strategy/1 Health',
      'staging command rollback rollback',
    ]);
    expect(report.outcome).toBe('rolled-back');
    expect(report.message).toBe('staging rolled back: strategy webhook Health failed: Health said no');
    expect(report.steps.at(-1)).toMatchObject({ phase: 'rollback', name: 'rollback', state: 'succeeded' });
  });

  it('fails the target when the rollback itself fails', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Health', 'failed');
    fx.failingCommands.add('staging:rollback');
    const report = await runTarget(target('staging', { strategy: canary(webhook('Health')) }), fx, live());
    expect(fx.callsOf('staging').at(-1)).toBe('staging command rollback rollback');
    expect(report.outcome).toBe('failed');
    expect(report.message).toBe('staging failed, and so did its rollback: strategy webhook Health failed: Health said no');
  });

  it('rolls back when a setWeight command fails, without the final setWeight 100', async () => {
    const fx = new FakeEffects();
    fx.failingCommands.add('staging:setWeight 50');
    const report = await runTarget(target('staging', { strategy: canary(setWeight(25), setWeight(50)) }), fx, live());
    expect(fx.calls).toEqual([
      'staging command deploy deploy',
      'staging command strategy setWeight 25',
      'staging command strategy setWeight 50',
      'staging command rollback rollback',
    ]);
    expect(report.outcome).toBe('rolled-back');
  });
});

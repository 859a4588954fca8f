import { describe, expect, it } from 'vitest';
import { runTarget } from '../../../action/engine/target.ts';
import { FakeEffects, blueGreen, target, webhook, within } from '../fakes.ts';

const live = (): AbortSignal => new AbortController().signal;

describe('blue/green', () => {
  it('runs each list in parallel, then redirects traffic, then shuts the old version down', async () => {
    const fx = new FakeEffects();
    const report = await runTarget(
      target('prod', { strategy: blueGreen([webhook('Preview'), webhook('Ticket')], [webhook('Soak')]) }),
      fx,
      live(),
    );
    expect(fx.calls).toEqual([
      'prod command deploy deploy',
      'prod gate strategy redirectTrafficAfter/0 Preview',
      'prod gate strategy redirectTrafficAfter/1 Ticket',
      'prod command strategy redirectTraffic',
      'prod gate strategy shutDownOldVersionAfter/0 Soak',
      'prod command strategy shutDownOldVersion',
    ]);
    expect(report.outcome).toBe('succeeded');
  });

  it('rolls back a failure before the traffic switch without switching', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Preview', 'failed');
    fx.gates.set('Ticket', 'hang');
    const report = await within(
      1000,
      runTarget(target('prod', { strategy: blueGreen([webhook('Preview'), webhook('Ticket')], []) }), fx, live()),
    );
    expect(fx.calls.slice(-1)).toEqual(['prod command rollback rollback']);
    expect(fx.calls).not.toContain('prod command strategy redirectTraffic');
    expect(report.steps.find((s) => s.name === 'Ticket')?.state).toBe('canceled');
    expect(report.outcome).toBe('rolled-back');
  });

  it('rolls back a failed traffic switch', async () => {
    const fx = new FakeEffects();
    fx.failingCommands.add('prod:redirectTraffic');
    const report = await runTarget(target('prod', { strategy: blueGreen([], [webhook('Soak')]) }), fx, live());
    expect(fx.calls).toEqual(['prod command deploy deploy', 'prod command strategy redirectTraffic', 'prod command rollback rollback']);
    expect(report.outcome).toBe('rolled-back');
  });
});


import { describe, expect, it } from 'vitest';
import { runDeployment } from '../../../action/engine/run-targets.ts';
import { FakeEffects, deferred, plan, target, webhook, within } from '../fakes.ts';

const live = (): AbortSignal => new AbortController().signal;
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('runDeployment', () => {
  it('runs every target and succeeds, reporting them in plan order', async () => {
    const fx = new FakeEffects();
    const report = await runDeployment(
      plan([target('staging'), target('prod', { dependsOn: ['staging'] })]),
      'octo/app/42',
      fx,
      live(),
    );
    expect(report).toMatchObject({ deploymentId: 'octo/app/42', application: 'potato-facts', result: 'succeeded' });
    expect(report.targets.map((t) => `${t.target} ${t.outcome}`)).toEqual(['staging succeeded', 'prod succeeded']);
    expect(fx.calls).toEqual(['staging command deploy deploy', 'prod command deploy deploy']);
  });

  it('succeeds with nothing to do for an empty plan', async () => {
    const report = await runDeployment(plan([]), 'octo/app/42', new FakeEffects(), live());
    expect(report.result).toBe('succeeded');
    expect(report.targets).toEqual([]);
  });

  it('runs targets whose dependencies are met in parallel', async () => {
    const fx = new FakeEffects();
    const hold = deferred();
    fx.heldCommands.set('eu:deploy', hold.promise);
    fx.heldCommands.set('us:deploy', hold.promise);
    const running = runDeployment(plan([target('eu'), target('us')]), 'run', fx, live());
    await tick();
    expect(fx.calls).toEqual(['eu command deploy deploy', 'us command deploy deploy']);
    hold.resolve();
    expect((await running).result).toBe('succeeded');
  });

  it('starts a dependent as soon as its dependency succeeded, while an unrelated target still runs', async () => {
    const fx = new FakeEffects();
    const slow = deferred();
    fx.heldCommands.set('slow:deploy', slow.promise);
    const running = runDeployment(
      plan([target('slow'), target('staging'), target('prod', { dependsOn: ['staging'] })]),
      'run',
      fx,
      live(),
    );
    await tick();
    expect(fx.calls).toContain('prod command deploy deploy');
    slow.resolve();
    const report = await running;
    expect(report.targets.map((t) => t.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('cancels the transitive dependents of a failed target only; the independent branch finishes', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Schema', 'failed');
    const report = await runDeployment(
      plan([
        target('staging', { beforeDeployment: [webhook('Schema')] }),
        target('qa'),
        target('prod-eu', { dependsOn: ['staging'] }),
        target('docs', { dependsOn: ['qa'] }),
        target('prod-us', { dependsOn: ['prod-eu'] }),
      ]),
      'run',
      fx,
      live(),
    );
    expect(report.result).toBe('failed');
    expect(report.targets.map((t) => `${t.target} ${t.outcome}`)).toEqual([
      'staging failed',
      'qa succeeded',
      'prod-eu canceled',
      'docs succeeded',
      'prod-us canceled',
    ]);
    expect(report.targets[2]).toEqual({
      target: 'prod-eu',
      outcome: 'canceled',
      message: 'prod-eu canceled: upstream target staging failed',
      steps: [],
      start: null,
      end: null,
    });
    expect(report.targets[4]?.message).toBe('prod-us canceled: upstream target prod-eu was canceled');
    expect(fx.callsOf('prod-eu')).toEqual([]);
    expect(fx.callsOf('prod-us')).toEqual([]);
    expect(fx.callsOf('docs')).toEqual(['docs command deploy deploy']);
    expect(fx.logs).toContain('prod-eu: prod-eu canceled: upstream target staging failed');
  });

  it('keeps an environment whose afterDeployment failed and cancels what depends on it', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Tests', 'failed');
    const report = await runDeployment(
      plan([target('staging', { afterDeployment: [webhook('Tests')] }), target('prod', { dependsOn: ['staging'] })]),
      'run',
      fx,
      live(),
    );
    expect(report.targets.map((t) => t.outcome)).toEqual(['failed', 'canceled']);
    expect(fx.calls.some((c) => c.includes('rollback'))).toBe(false);
    expect(fx.callsOf('prod')).toEqual([]);
  });

  it('ends rolled-back when the worst target was rolled back and its dependents canceled', async () => {
    const fx = new FakeEffects();
    fx.failingCommands.add('staging:deploy');
    const report = await runDeployment(
      plan([target('staging'), target('prod', { dependsOn: ['staging'] }), target('docs')]),
      'run',
      fx,
      live(),
    );
    expect(report.targets.map((t) => t.outcome)).toEqual(['rolled-back', 'canceled', 'succeeded']);
    expect(report.result).toBe('rolled-back');
  });

  // SPEC §5: a target that never started because the run was canceled ends `canceled`.
  it('starts no further target once the run is canceled', async () => {
    const fx = new FakeEffects();
    const run = new AbortController();
    fx.onCommand = (name) => {
      if (name === 'staging') run.abort(new Error('the run was canceled'));
    };
    const report = await within(
      1000,
      runDeployment(plan([target('staging'), target('prod', { dependsOn: ['staging'] })]), 'run', fx, run.signal),
    );
    expect(fx.callsOf('prod')).toEqual([]);
    expect(report.targets[1]).toMatchObject({ target: 'prod', outcome: 'canceled', steps: [], start: null });
  });

  it('never loses a target that finishes while a cancellation is being recorded', async () => {
    const fx = new FakeEffects();
    fx.gates.set('EU-Check', 'failed');
    const us = deferred();
    fx.heldCommands.set('us:deploy', us.promise);
    const record = fx.status.bind(fx);
    // Recording eu-2's cancellation takes a while, and us finishes meanwhile.
    fx.status = async (t, status, message) => {
      if (status === 'canceled') {
        us.resolve();
        await tick();
      }
      return record(t, status, message);
    };
    const report = await within(
      2000,
      runDeployment(
        plan([
          target('eu', { beforeDeployment: [webhook('EU-Check')] }),
          target('eu-2', { dependsOn: ['eu'] }),
          target('us'),
          target('us-2', { dependsOn: ['us'] }),
        ]),
        'run',
        fx,
        live(),
      ),
    );
    expect(Object.fromEntries(report.targets.map((t) => [t.target, t.outcome]))).toEqual({
      eu: 'failed',
      'eu-2': 'canceled',
      us: 'succeeded',
      'us-2': 'succeeded',
    });
  });

  describe('one job per environment: upstream targets deployed by other jobs', () => {
    it('asks the relay for an upstream target outside the plan and deploys once it succeeded', async () => {
      const fx = new FakeEffects();
      const report = await runDeployment(plan([target('prod', { dependsOn: ['staging'] })]), 'run', fx, live());
      expect(fx.upstreamCalls).toEqual(['staging']);
      expect(report.result).toBe('succeeded');
      expect(report.targets.map((t) => t.target)).toEqual(['prod']);
    });

    it('cancels the target, naming the upstream target and its failure, when that target failed', async () => {
      const fx = new FakeEffects();
      fx.upstreams.set('staging', { outcome: 'failed', message: 'staging kept as deployed: afterDeployment webhook Tests failed' });
      const report = await runDeployment(plan([target('prod', { dependsOn: ['staging'] })]), 'run', fx, live());
      expect(report.result).toBe('canceled');
      expect(report.targets[0]?.message).toBe(
        'prod canceled: upstream target staging failed (staging kept as deployed: afterDeployment webhook Tests failed)',
      );
      expect(fx.calls).toEqual([]);
      expect(fx.statuses).toEqual(['prod canceled']);
    });

    it('cancels when the upstream target was canceled', async () => {
      const fx = new FakeEffects();
      fx.upstreams.set('staging', { outcome: 'canceled', message: 'the workflow job was canceled' });
      const report = await runDeployment(plan([target('prod', { dependsOn: ['staging'] })]), 'run', fx, live());
      expect(report.targets[0]?.message).toBe('prod canceled: upstream target staging was canceled (the workflow job was canceled)');
    });

    it('does not ask about upstream targets in afterDeployment gate mode: they were checked before the deploy', async () => {
      const fx = new FakeEffects();
      fx.upstreams.set('staging', { outcome: 'failed', message: 'x' });
      const report = await runDeployment(plan([target('prod', { dependsOn: ['staging'] })]), 'run', fx, live(), 'afterDeployment');
      expect(fx.upstreamCalls).toEqual([]);
      expect(report.result).toBe('succeeded');
    });

    it('waits for all upstream targets at once and ends as soon as one fails, aborting the other waits', async () => {
      const fx = new FakeEffects();
      const answer = deferred<{ outcome: 'failed'; message: string }>();
      // eu never answers on its own: a run that waited for it in turn would hang.
      fx.upstreams.set('eu', 'hang');
      fx.upstreams.set('us', answer.promise);
      const running = runDeployment(plan([target('prod', { dependsOn: ['eu', 'us'] })]), 'run', fx, live());
      await tick();
      expect(fx.upstreamCalls).toEqual(['eu', 'us']);
      answer.resolve({ outcome: 'failed', message: 'us rolled back' });
      const report = await within(1000, running);
      expect(fx.upstreamSignals.get('eu')?.aborted).toBe(true);
      expect(report.targets[0]?.message).toBe('prod canceled: upstream target us failed (us rolled back)');
      expect(fx.calls).toEqual([]);
      expect(fx.statuses).toEqual(['prod canceled']);
    });

    it('deploys once every upstream target succeeded, whichever answers first', async () => {
      const fx = new FakeEffects();
      const eu = deferred<{ outcome: 'succeeded'; message: string }>();
      fx.upstreams.set('eu', eu.promise);
      const running = runDeployment(plan([target('prod', { dependsOn: ['eu', 'us'] })]), 'run', fx, live());
      await tick();
      expect(fx.upstreamCalls).toEqual(['eu', 'us']);
      expect(fx.calls).toEqual([]);
      eu.resolve({ outcome: 'succeeded', message: '' });
      expect((await within(1000, running)).result).toBe('succeeded');
      expect(fx.calls).toEqual(['prod command deploy deploy']);
    });

    it('a canceled run ends the upstream waits, and the target is canceled', async () => {
      const fx = new FakeEffects();
      fx.upstreams.set('staging', 'hang');
      const run = new AbortController();
      const running = runDeployment(plan([target('prod', { dependsOn: ['staging'] })]), 'run', fx, run.signal);
      await tick();
      run.abort(new Error('the workflow job was canceled'));
      const report = await within(1000, running);
      expect(report.targets[0]?.message).toBe(
        'prod canceled: upstream target staging was canceled (its outcome could not be read: the workflow job was canceled)',
      );
    });
  });
});

/** The engine when the job parks (SPEC §9): nothing withdrawn or rolled back, targets and dependents `parked`. */
import { describe, expect, it } from 'vitest';
import { runDeployment } from '../../../action/engine/run-targets.ts';
import { Parking } from '../../../action/engine/parking.ts';
import { worstOutcome } from '../../../action/engine/report.ts';
import type { TargetReport } from '../../../action/engine/report.ts';
import { FakeEffects, canary, plan, setWeight, target, webhook, within } from '../fakes.ts';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('parking', () => {
  it('parks a waiting gate: the target and its dependents end parked, nothing is rolled back or recorded as final', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Canary-Check', 'hang');
    const job = new AbortController();
    const running = runDeployment(
      plan([
        target('staging', { strategy: canary(setWeight(20), webhook('Canary-Check'), setWeight(60)) }),
        target('prod', { dependsOn: ['staging'] }),
        target('prod-us', { dependsOn: ['prod'] }),
        target('docs'),
      ]),
      'run',
      fx,
      job.signal,
    );
    await tick();
    job.abort(new Parking());
    const report = await within(1000, running);
    expect(report.result).toBe('parked');
    expect(report.targets.map((t) => `${t.target} ${t.outcome}`)).toEqual(['staging parked', 'prod parked', 'prod-us parked', 'docs succeeded']);
    expect(report.targets[0]?.message).toBe('staging parked during strategy: its gates wait at the relay, and a resumed run continues it');
    expect(report.targets[0]?.steps.map((s) => `${s.name} ${s.state}`)).toEqual(['deploy succeeded', 'setWeight 20 succeeded', 'Canary-Check parked']);
    expect(report.targets[1]?.message).toBe('prod parked: upstream target staging is parked');
    // No rollback, no further setWeight, nothing run for the dependents.
    expect(fx.callsOf('staging')).toEqual([
      'staging command deploy deploy',
      'staging command strategy setWeight 20',
      'staging gate strategy strategy/1 Canary-Check',
    ]);
    expect(fx.callsOf('prod')).toEqual([]);
    // Only `running`: a parked target stays running at the relay and on GitHub.
    expect(fx.statuses).toEqual(['staging running', 'docs running', 'docs succeeded']);
  });

  it('ends a target that never started parked, not canceled', async () => {
    const fx = new FakeEffects();
    const job = new AbortController();
    job.abort(new Parking());
    const report = await runDeployment(plan([target('staging')]), 'run', fx, job.signal);
    expect(report.targets[0]).toMatchObject({ outcome: 'parked', message: 'staging parked: the job parked before it started' });
    expect(fx.calls).toEqual([]);
    expect(fx.statuses).toEqual([]);
  });

  it('parks a wait for an upstream target another job deploys, and what depends on it', async () => {
    const fx = new FakeEffects();
    fx.upstreams.set('staging', 'hang');
    const job = new AbortController();
    const running = runDeployment(plan([target('prod', { dependsOn: ['staging'] })]), 'run', fx, job.signal);
    await tick();
    job.abort(new Parking());
    const report = await within(1000, running);
    expect(report.targets[0]).toMatchObject({ outcome: 'parked', message: 'prod parked: upstream target staging is parked (the job parked while waiting for it)' });
    expect(fx.statuses).toEqual([]);
  });

  it('still cancels when the job is canceled, not parked', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Tests', 'hang');
    const job = new AbortController();
    const running = runDeployment(plan([target('staging', { beforeDeployment: [webhook('Tests')] })]), 'run', fx, job.signal);
    await tick();
    job.abort(new Error('the workflow job was canceled'));
    expect((await within(1000, running)).targets[0]?.outcome).toBe('canceled');
  });

  it('ranks parked between canceled and succeeded', () => {
    expect(worstOutcome(['succeeded', 'parked'])).toBe('parked');
    expect(worstOutcome(['parked', 'canceled'])).toBe('canceled');
    expect(worstOutcome(['parked', 'rolled-back'])).toBe('rolled-back');
    expect(worstOutcome(['failed', 'parked'])).toBe('failed');
  });

  it('keeps a target the parked attempt ended: it is not run, and its dependents start', async () => {
    const fx = new FakeEffects();
    const keptReport: TargetReport = { target: 'staging', outcome: 'succeeded', message: 'staging deployed (succeeded in run x)', steps: [], start: null, end: null };
    fx.kept = (t) => (t.name === 'staging' ? keptReport : null);
    const report = await runDeployment(plan([target('staging'), target('prod', { dependsOn: ['staging'] })]), 'run', fx, new AbortController().signal);
    expect(report.targets[0]).toBe(keptReport);
    expect(report.targets[1]?.outcome).toBe('succeeded');
    expect(fx.calls).toEqual(['prod command deploy deploy']);
  });
});

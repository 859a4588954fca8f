import { describe, expect, it } from 'vitest';
import { runTarget } from '../../../action/engine/target.ts';
import { FakeEffects, approval as approvalItem, canary, deferred, pause, setWeight, target, webhook, within } from '../fakes.ts';

const live = (): AbortSignal => new AbortController().signal;

describe('runTarget: phases', () => {
  it('runs beforeDeployment, deploy, the canary steps in order, then afterDeployment', async () => {
    const fx = new FakeEffects();
    const staging = target('staging', {
      beforeDeployment: [webhook('Schema'), webhook('Ticket')],
      strategy: canary(setWeight(25), webhook('Health'), pause(30), setWeight(100)),
      afterDeployment: [webhook('Tests')],
    });
    const report = await runTarget(staging, fx, live());
    expect(fx.calls).toEqual([
      'staging gate beforeDeployment beforeDeployment/0 Schema',
      'staging gate beforeDeployment beforeDeployment/1 Ticket',
      'staging command deploy deploy',
      'staging command strategy setWeight 25',
      'staging gate strategy strategy/1 Health',
      'staging gate strategy strategy/2 pause',
      'staging command strategy setWeight 100',
      'staging gate afterDeployment afterDeployment/0 Tests',
    ]);
    expect(report.outcome).toBe('succeeded');
    expect(report.message).toBe('staging deployed');
    expect(report.steps.map((s) => `${s.phase} ${s.name} ${s.state}`)).toEqual([
      'beforeDeployment Schema succeeded',
      'beforeDeployment Ticket succeeded',
      'deploy deploy succeeded',
      'strategy setWeight 25 succeeded',
      'strategy Health succeeded',
      'strategy pause succeeded',
      'strategy setWeight 100 succeeded',
      'afterDeployment Tests succeeded',
    ]);
    expect(fx.logs).toEqual(['staging: staging deployed']);
  });

  it('runs a plain target (no gates, no strategy) as just its deploy command', async () => {
    const fx = new FakeEffects();
    const report = await runTarget(target('dev'), fx, live());
    expect(fx.calls).toEqual(['dev command deploy deploy']);
    expect(report.outcome).toBe('succeeded');
  });

  it('stamps the report with the start and end time from the effects clock', async () => {
    const fx = new FakeEffects();
    const start = fx.clock.now();
    fx.onCommand = () => fx.clock.advance(90_000);
    const report = await runTarget(target('dev'), fx, live());
    expect(report.start).toBe(new Date(start).toISOString());
    expect(report.end).toBe(new Date(start + 90_000).toISOString());
  });

  it('starts every item of a constraint list before any of them finishes', async () => {
    const fx = new FakeEffects();
    const hold = deferred();
    fx.gates.set('Approval', { state: 'succeeded', release: hold.promise });
    const running = runTarget(target('prod', { beforeDeployment: [webhook('Approval'), webhook('Ticket')] }), fx, live());
    await new Promise((r) => setTimeout(r, 10));
    expect(fx.calls).toEqual([
      'prod gate beforeDeployment beforeDeployment/0 Approval',
      'prod gate beforeDeployment beforeDeployment/1 Ticket',
    ]);
    hold.resolve();
    expect((await running).outcome).toBe('succeeded');
  });
});

describe('runTarget: beforeDeployment failure', () => {
  it('does not deploy, does not roll back, and fails the target', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Schema', 'failed');
    const report = await runTarget(target('staging', { beforeDeployment: [webhook('Schema')], afterDeployment: [webhook('Tests')] }), fx, live());
    expect(fx.calls).toEqual(['staging gate beforeDeployment beforeDeployment/0 Schema']);
    expect(report.outcome).toBe('failed');
    expect(report.message).toBe('staging not deployed: beforeDeployment webhook Schema failed: Schema said no');
  });

  it('aborts a sibling that would wait forever as soon as one item fails, and reports it canceled', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Approval', 'hang');
    fx.gates.set('Ticket', 'failed');
    const report = await within(1000, runTarget(target('prod', { beforeDeployment: [webhook('Approval'), webhook('Ticket')] }), fx, live()));
    expect(fx.gateCalls[0]?.signal.aborted).toBe(true);
    expect(report.outcome).toBe('failed');
    expect(report.steps.map((s) => `${s.name} ${s.state}`)).toEqual(['Approval canceled', 'Ticket failed']);
    expect(report.steps[0]?.message).toBe('canceled: webhook Ticket failed');
    expect(report.message).toContain('webhook Ticket failed');
    expect(fx.calls.some((c) => c.includes('command'))).toBe(false);
  });

  it('names a timed-out gate as timed out', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Schema', 'timed-out');
    const report = await runTarget(target('staging', { beforeDeployment: [webhook('Schema')] }), fx, live());
    expect(report.message).toContain('webhook Schema timed out');
  });
});

describe('runTarget: afterDeployment failure', () => {
  it('fails the target and keeps it as deployed: no rollback command', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Tests', 'failed');
    const report = await runTarget(
      target('staging', { strategy: canary(setWeight(100)), afterDeployment: [webhook('Tests'), webhook('Smoke')] }),
      fx,
      live(),
    );
    expect(report.outcome).toBe('failed');
    expect(fx.calls.filter((c) => c.includes('rollback'))).toEqual([]);
    expect(report.steps.some((s) => s.phase === 'rollback')).toBe(false);
    expect(report.message).toBe(
      'staging kept as deployed; its dependents are canceled: afterDeployment webhook Tests failed: Tests said no',
    );
  });
});

describe('runTarget: a failed deploy rolls back', () => {
  it('rolls back a failed deploy command and runs no strategy', async () => {
    const fx = new FakeEffects();
    fx.failingCommands.add('staging:deploy');
    const report = await runTarget(target('staging', { strategy: canary(setWeight(25)) }), fx, live());
    expect(fx.calls).toEqual(['staging command deploy deploy', 'staging command rollback rollback']);
    expect(report.outcome).toBe('rolled-back');
    expect(report.message).toBe('staging rolled back: deploy command deploy failed: exited with 1');
  });
});

describe('runTarget: the run is canceled', () => {
  it('aborts the pending gates of the running list', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Approval', 'hang');
    const run = new AbortController();
    const running = runTarget(target('prod', { beforeDeployment: [webhook('Approval')] }), fx, run.signal);
    await new Promise((r) => setTimeout(r, 5));
    run.abort(new Error('the run was canceled'));
    const report = await within(1000, running);
    expect(report.steps[0]).toMatchObject({ name: 'Approval', state: 'canceled', message: 'canceled: the run was canceled' });
    expect(fx.calls.some((c) => c.includes('command'))).toBe(false);
  });

  // A cancel that arrives while a command runs stops the command; no later constraint list starts,
  // or its gates would wait until their own timeout (24 hours by default).
  it('stops a running command and starts no later list once the run was canceled', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Tests', 'hang');
    const run = new AbortController();
    fx.onCommand = () => run.abort(new Error('the run was canceled'));
    const report = await within(1000, runTarget(target('staging', { afterDeployment: [webhook('Tests')] }), fx, run.signal));
    expect(fx.gateCalls).toEqual([]);
    expect(report.steps.at(-1)).toMatchObject({ name: 'deploy', state: 'failed' });
    expect(report.outcome).toBe('canceled');
  });

  it('ends the target canceled, not failed, and says nothing was deployed', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Schema', 'hang');
    const run = new AbortController();
    const running = runTarget(target('prod', { beforeDeployment: [webhook('Schema')] }), fx, run.signal);
    await new Promise((r) => setTimeout(r, 5));
    run.abort(new Error('the workflow job was canceled'));
    const report = await within(1000, running);
    expect(report).toMatchObject({
      outcome: 'canceled',
      message: 'prod canceled during beforeDeployment (the workflow job was canceled): nothing was deployed',
    });
    expect(fx.statuses).toEqual(['prod running', 'prod canceled']);
  });

  // The runner kills a canceled step about 10 s after SIGINT: a rollback cut short helps nobody.
  it('stops a running strategy command and runs no rollback', async () => {
    const fx = new FakeEffects();
    const run = new AbortController();
    fx.heldCommands.set('staging:setWeight', new Promise(() => undefined));
    fx.onCommand = (_target, command) => {
      if (command === 'setWeight') run.abort(new Error('the workflow job was canceled'));
    };
    const staging = target('staging', {
      commands: { deploy: 'deploy.sh', setWeight: 'weight.sh', rollback: 'rollback.sh' },
      strategy: { kind: 'canary', name: 'c', steps: [setWeight(25)] },
    });
    const report = await within(1000, runTarget(staging, fx, run.signal));
    expect(report.outcome).toBe('canceled');
    expect(report.message).toBe('staging canceled during strategy (the workflow job was canceled): no rollback ran, so it may be partly deployed');
    expect(fx.callsOf('staging').some((c) => c.includes('rollback'))).toBe(false);
  });

  it('keeps an environment canceled during its afterDeployment gates as deployed', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Tests', 'hang');
    const run = new AbortController();
    const running = runTarget(target('staging', { afterDeployment: [webhook('Tests')] }), fx, run.signal);
    await new Promise((r) => setTimeout(r, 5));
    run.abort(new Error('the workflow job was canceled'));
    expect((await within(1000, running)).message).toMatch(/^staging canceled during afterDeployment \(.*\): it stays as deployed$/);
  });

  it('ends a gate-mode target canceled', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Tests', 'hang');
    const run = new AbortController();
    const running = runTarget(target('staging', { afterDeployment: [webhook('Tests')] }), fx, run.signal, 'afterDeployment');
    await new Promise((r) => setTimeout(r, 5));
    run.abort(new Error('the workflow job was canceled'));
    expect((await within(1000, running)).outcome).toBe('canceled');
    expect(fx.statuses).toEqual(['staging running', 'staging canceled']);
  });
});

describe('runTarget: a failed rollback', () => {
  it('tells the status that the environment is in an unknown state', async () => {
    const fx = new FakeEffects();
    fx.failingCommands.add('staging:deploy');
    fx.failingCommands.add('staging:rollback');
    const report = await runTarget(target('staging', { commands: { deploy: 'd.sh', rollback: 'r.sh' } }), fx, live());
    expect(report.outcome).toBe('failed');
    expect(fx.statuses).toEqual(['staging running', 'staging failed (rollback failed)']);
  });
});

describe('runTarget: the status other jobs see', () => {
  it('records running at the start and the outcome at the end', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Health', 'failed');
    await runTarget(target('staging', { afterDeployment: [webhook('Health')] }), fx, live());
    expect(fx.statuses).toEqual(['staging running', 'staging failed']);
  });
});

describe('runTarget: gate mode', () => {
  const staging = target('staging', {
    commands: { deploy: 'deploy.sh' },
    beforeDeployment: [webhook('Schema')],
    strategy: { kind: 'canary', name: 'c', steps: [webhook('Health')] },
    afterDeployment: [webhook('Tests')],
  });

  it('beforeDeployment runs only that list, no command, and leaves the target running for the user’s own deploy', async () => {
    const fx = new FakeEffects();
    const report = await runTarget(staging, fx, live(), 'beforeDeployment');
    expect(fx.calls).toEqual(['staging gate beforeDeployment beforeDeployment/0 Schema']);
    expect(report.outcome).toBe('succeeded');
    expect(report.message).toBe('staging passed its beforeDeployment gates: the deployment may proceed');
    expect(fx.statuses).toEqual(['staging running']);
  });

  it('a failed beforeDeployment gate fails the target and records the failure', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Schema', 'failed');
    const report = await runTarget(staging, fx, live(), 'beforeDeployment');
    expect(report.outcome).toBe('failed');
    expect(report.message).toMatch(/^staging must not be deployed: beforeDeployment webhook Schema failed/);
    expect(fx.statuses).toEqual(['staging running', 'staging failed']);
  });

  it('afterDeployment runs only that list and records the final outcome', async () => {
    const fx = new FakeEffects();
    const report = await runTarget(staging, fx, live(), 'afterDeployment');
    expect(fx.calls).toEqual(['staging gate afterDeployment afterDeployment/0 Tests']);
    expect(report.outcome).toBe('succeeded');
    expect(fx.statuses).toEqual(['staging running', 'staging succeeded']);
  });

  it('a failed afterDeployment gate fails the target without any rollback', async () => {
    const fx = new FakeEffects();
    fx.gates.set('Tests', 'timed-out');
    const report = await runTarget(staging, fx, live(), 'afterDeployment');
    expect(report.outcome).toBe('failed');
    expect(fx.calls.some((c) => c.includes('rollback'))).toBe(false);
    expect(report.message).toMatch(/dependents are canceled: afterDeployment webhook Tests timed out/);
  });
});

describe('runTarget: the list a gate runs in', () => {
  it('passes each gate its whole constraint list with every item’s key, so an approval link can be shared', async () => {
    const fx = new FakeEffects();
    const approval = approvalItem();
    await runTarget(target('prod', { beforeDeployment: [approval, webhook('Notify')] }), fx, live());
    const notify = fx.gateCalls.find((c) => c.name === 'Notify');
    expect(notify?.list.items).toEqual([approval, webhook('Notify')]);
    expect(notify?.list.keys).toEqual(['beforeDeployment/0', 'beforeDeployment/1']);
  });
});

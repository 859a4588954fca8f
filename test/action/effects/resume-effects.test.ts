/** A job continuing a parked attempt (SPEC §9): it replays the journal and never repeats a step. */
import { describe, expect, it } from 'vitest';
import { runDeployment } from '../../../action/engine/run-targets.ts';
import { ManualClock, plan, target, webhook, within } from '../fakes.ts';
import { harness, webhookDef } from './harness.ts';
import { entry, parkingEffects, requestLines, stepEntry } from './park-helpers.ts';

const never = { parkAfterMs: 3_600_000, watchClock: new ManualClock() };

describe('continuing a parked attempt', () => {
  it('replays ended steps, waits for a called webhook without calling it, and reports the whole target', async () => {
    const h = harness({ webhooks: [webhookDef('Before'), webhookDef('After')] });
    // The parked run registered and called After; its callback came while the job was parked.
    const parkedGate = await h.relay.client().register({
      runId: 'octo/app/42',
      stepKey: 'attempt-1/staging/afterDeployment/0/After',
      target: 'staging',
      phase: 'afterDeployment',
      name: 'After',
      timeoutSeconds: 3600,
      kind: 'webhook',
      attempt: 1,
      requiresRoles: [],
      run: { application: 'potato-facts', repository: 'octo/app', sha: '', ref: '', actor: '', runUrl: '' },
    });
    h.relay.requests.length = 0;
    h.relay.decisions.set('After', { state: 'succeeded', message: 'all green' });
    const entries = [
      stepEntry('staging/beforeDeployment/0', 'webhook', 'Before', 'beforeDeployment', 1),
      stepEntry('staging/deploy', 'command', 'deploy', 'deploy', 2),
      entry('staging/afterDeployment/0#called', { type: 'called' }, 3),
    ];
    const { fx, watch } = parkingEffects(h, { ...never, entries });
    const staging = target('staging', { beforeDeployment: [webhook('Before')], commands: { deploy: 'echo deployed' }, afterDeployment: [webhook('After')] });
    const report = await within(5000, runDeployment(plan([staging]), 'octo/app/42', fx, watch.signal));

    expect(report.result).toBe('succeeded');
    expect(report.targets[0]?.steps.map((s) => `${s.kind} ${s.name} ${s.state}`)).toEqual([
      'webhook Before succeeded',
      'command deploy succeeded',
      'webhook After succeeded',
    ]);
    // Nothing called, nothing run, Before never registered; After registered again (the same gate) and awaited.
    expect(h.webhookCalls).toEqual([]);
    expect(h.log.lines.some((l) => l.startsWith('output: deployed'))).toBe(false);
    expect(requestLines(h.relay.requests)).toEqual([
      'target running',
      'register After',
      'poll',
      'journal staging/afterDeployment/0',
      'journal staging#end',
      'target succeeded',
    ]);
    expect(h.relay.gates.size).toBe(1);
    expect(h.relay.gate('After').gateId).toBe(parkedGate.gateId);
    expect(h.story()).toContain('[staging] Webhook After was called by the parked run; waiting for its callback …');
  });

  it('keeps a target the parked attempt ended, with its steps and run, and starts what depends on it', async () => {
    const h = harness();
    const entries = [
      stepEntry('staging/deploy', 'command', 'deploy', 'deploy', 1),
      entry('staging#end', { type: 'target', outcome: 'succeeded', message: 'staging deployed' }, 2),
    ];
    const { fx, watch } = parkingEffects(h, { ...never, entries });
    const report = await runDeployment(plan([target('staging'), target('prod', { dependsOn: ['staging'] })]), 'octo/app/42', fx, watch.signal);
    expect(report.targets[0]).toMatchObject({
      target: 'staging',
      outcome: 'succeeded',
      message: 'staging deployed (succeeded in run https://github.com/octo/app/actions/runs/41)',
      steps: [{ kind: 'command', name: 'deploy', state: 'succeeded' }],
    });
    expect(report.targets[1]?.outcome).toBe('succeeded');
    expect(requestLines(h.relay.requests)).toEqual(['target running', 'journal prod/deploy', 'journal prod#end', 'target succeeded']);
    expect((h.relay.requests[0]?.body as { target: string }).target).toBe('prod');
  });

  it('keeps a target whose job ended it without a journal (no park-after there): its final record stands, nothing reruns', async () => {
    const h = harness();
    const records = [{ runId: 'octo/app/42', target: 'staging', attempt: 1, status: 'succeeded' as const, message: 'staging deployed', updatedAt: 1 }];
    const { fx, watch } = parkingEffects(h, { ...never, records });
    const report = await runDeployment(plan([target('staging'), target('prod', { dependsOn: ['staging'] })]), 'octo/app/42', fx, watch.signal);
    expect(report.targets[0]).toMatchObject({ target: 'staging', outcome: 'succeeded', message: 'staging deployed (succeeded in an earlier run of this deployment)', steps: [] });
    expect(requestLines(h.relay.requests)).toEqual(['target running', 'journal prod/deploy', 'journal prod#end', 'target succeeded']);
  });

  it('keeps a failed target failed: its dependents are canceled, not run', async () => {
    const h = harness();
    const entries = [entry('staging#end', { type: 'target', outcome: 'failed', message: 'staging not deployed: beforeDeployment approval rejected' })];
    const { fx, watch } = parkingEffects(h, { ...never, entries });
    const report = await runDeployment(plan([target('staging'), target('prod', { dependsOn: ['staging'] })]), 'octo/app/42', fx, watch.signal);
    expect(report.targets.map((t) => t.outcome)).toEqual(['failed', 'canceled']);
    expect(report.result).toBe('failed');
  });
});

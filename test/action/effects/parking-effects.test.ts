/** The real effects when the job parks, and their journal (SPEC §9), over the in-memory relay. */
import { describe, expect, it } from 'vitest';
import { runDeployment } from '../../../action/engine/run-targets.ts';
import type { GateItem } from '../../../action/plan/plan.ts';
import { ManualClock, approval as approvalItem, deferred, plan, target, webhook, within } from '../fakes.ts';
import { SECRET, harness, webhookDef } from './harness.ts';
import { parkingEffects, requestLines } from './park-helpers.ts';

const cancel = { method: 'DELETE', uriTemplate: 'https://ci.example/runs/{{armory.deploymentId}}', headers: [], bodyTemplate: null };
const approval: GateItem = approvalItem();

describe('parking the real effects', () => {
  it('parks a waiting webhook gate: not withdrawn, no cancelTemplate, its call journaled before the wait', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { cancel })] });
    h.relay.holdPolls = true;
    const { fx, watch } = parkingEffects(h);
    const report = await within(2000, runDeployment(plan([target('staging', { beforeDeployment: [webhook('Tests')] })]), 'octo/app/42', fx, watch.signal));
    expect(report.result).toBe('parked');
    expect(report.targets[0]?.steps).toMatchObject([{ kind: 'webhook', name: 'Tests', state: 'parked' }]);
    expect(h.relay.gate('Tests').state).toBe('pending');
    expect(h.webhookCalls.map((c) => c.method)).toEqual(['POST']);
    expect(requestLines(h.relay.requests)).toEqual(['target running', 'register Tests', 'journal staging/beforeDeployment/0#called', 'poll']);
    expect(watch.parked?.gates).toMatchObject([{ gateId: h.relay.gate('Tests').gateId, target: 'staging', name: 'Tests', kind: 'webhook' }]);
  });

  it('parks a pending approval without withdrawing it, and keeps its link for the summary', async () => {
    const h = harness();
    h.relay.holdPolls = true;
    const { fx, watch } = parkingEffects(h);
    const report = await within(2000, runDeployment(plan([target('prod', { beforeDeployment: [approval] })]), 'octo/app/42', fx, watch.signal));
    expect(report.targets[0]).toMatchObject({ outcome: 'parked', steps: [{ kind: 'approval', state: 'parked' }] });
    expect(h.relay.requests.some((r) => r.path === '/v1/runs/cancel')).toBe(false);
    expect(watch.parked?.gates).toMatchObject([{ kind: 'approval', approvalUrl: h.relay.gate('manual approval').approvalUrl }]);
  });

  it('does not park while a webhook call is in flight beside a waiting approval', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.holdPolls = true;
    const answered = deferred<Response>();
    h.answer = () => answered.promise;
    const { fx, watch } = parkingEffects(h);
    const running = runDeployment(plan([target('prod', { beforeDeployment: [approval, webhook('Tests')] })]), 'octo/app/42', fx, watch.signal);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.webhookCalls).toHaveLength(1);
    expect(watch.signal.aborted).toBe(false);
    answered.resolve(new Response('ok'));
    const report = await within(2000, running);
    expect(report.targets[0]?.steps.map((s) => `${s.kind} ${s.state}`)).toEqual(['approval parked', 'webhook parked']);
    expect(watch.parked?.gates.map((g) => g.kind).sort()).toEqual(['approval', 'webhook']);
  });

  it('parks a wait for an upstream target and names it for the park', async () => {
    const h = harness();
    const { fx, watch } = parkingEffects(h);
    const report = await within(2000, runDeployment(plan([target('prod', { dependsOn: ['staging'] })]), 'octo/app/42', fx, watch.signal));
    expect(report.targets[0]?.outcome).toBe('parked');
    expect(watch.parked).toEqual({ gates: [], targets: ['staging'] });
    expect(h.relay.targets.has('prod')).toBe(false);
  });

  it('in a beforeDeployment gate step waits for the upstream target on the runner, and parks only once its gates exist', async () => {
    const h = harness({ settings: { target: 'prod', phase: 'beforeDeployment' } });
    h.relay.holdPolls = true;
    // staging is still running for the job's first three polls (its job deploys it meanwhile), then succeeded.
    const staging = { runId: 'octo/app/42', target: 'staging', attempt: 1, message: '', updatedAt: 1 };
    let polls = 0;
    const records = h.relay.targets;
    const get = records.get.bind(records);
    records.get = (name) => (name === 'staging' ? { ...staging, status: ++polls > 3 ? 'succeeded' : 'running' } : get(name));
    const { fx, watch } = parkingEffects(h);
    const report = await within(2000, runDeployment(plan([target('prod', { dependsOn: ['staging'], beforeDeployment: [approval] })]), 'octo/app/42', fx, watch.signal, 'beforeDeployment'));
    expect(report.targets[0]?.outcome).toBe('parked');
    // Parked on its gate, never on the upstream wait: GitHub's protection rule then finds the gate.
    expect(watch.parked).toMatchObject({ gates: [{ kind: 'approval' }], targets: [] });
  });

  it('journals each ended step before the next starts, and the target end before its final record', async () => {
    const h = harness({ webhooks: [webhookDef('Before'), webhookDef('After')] });
    h.relay.decisions.set('Before', { state: 'succeeded' });
    h.relay.decisions.set('After', { state: 'succeeded' });
    const timeline: string[] = [];
    const requests = h.relay.requests;
    requests.push = (...items) => {
      timeline.push(...requestLines(items).filter((line) => !line.startsWith('journal ')));
      return Array.prototype.push.apply(requests, items);
    };
    // A journal write counts once the relay answered it, and it answers late.
    const relay = h.ctx.relay;
    const journal = relay.journal.bind(relay);
    relay.journal = async (request, signal) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const answer = await journal(request, signal);
      timeline.push(`journal ${request.key}`);
      return answer;
    };
    const output = h.log.commandOutput;
    h.log.commandOutput = (line) => {
      timeline.push(`command ${line}`);
      output(line);
    };
    // Never parks: its clock stands still.
    const { fx, watch } = parkingEffects(h, { parkAfterMs: 3_600_000, watchClock: new ManualClock() });
    const staging = target('staging', { beforeDeployment: [webhook('Before')], commands: { deploy: 'echo deployed' }, afterDeployment: [webhook('After')] });
    const report = await within(5000, runDeployment(plan([staging]), 'octo/app/42', fx, watch.signal));
    expect(report.result).toBe('succeeded');
    expect(timeline).toEqual([
      'target running',
      'register Before',
      'journal staging/beforeDeployment/0#called',
      'poll',
      'journal staging/beforeDeployment/0',
      'command deployed',
      'journal staging/deploy',
      'register After',
      'journal staging/afterDeployment/0#called',
      'poll',
      'journal staging/afterDeployment/0',
      'journal staging#end',
      'target succeeded',
    ]);
    const end = h.relay.parking.journal.find((e) => e.key === 'staging#end');
    expect(end?.record).toEqual({ type: 'target', outcome: 'succeeded', message: 'staging deployed' });
  });

  it('retries a failing journal write', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    h.relay.refusals.set('POST /v1/runs/journal', 503);
    const { fx, watch } = parkingEffects(h, { parkAfterMs: 3_600_000, watchClock: new ManualClock() });
    await runDeployment(plan([target('staging', { beforeDeployment: [webhook('Tests')] })]), 'octo/app/42', fx, watch.signal);
    expect(requestLines(h.relay.requests).filter((l) => l === 'journal staging/beforeDeployment/0#called')).toHaveLength(2);
    expect(watch.enabled).toBe(true);
    expect(h.log.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
  });

  it('stops parking when the journal cannot be written, and keeps waiting on the runner', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    h.relay.outages.set('POST /v1/runs/journal', 503);
    // park-after 0s: without the failed write this job would park at its first wait.
    const { fx, watch } = parkingEffects(h, { parkAfterMs: 0 });
    const report = await within(2000, runDeployment(plan([target('staging', { beforeDeployment: [webhook('Tests')] })]), 'octo/app/42', fx, watch.signal));
    expect(report.result).toBe('succeeded');
    expect(watch.signal.aborted).toBe(false);
    expect(requestLines(h.relay.requests).filter((l) => l === 'journal staging/beforeDeployment/0#called')).toHaveLength(3);
    expect(h.log.lines.filter((l) => l.startsWith('warning'))).toEqual([
      "warning: hookgate: could not record staging/beforeDeployment/0#called in the relay's journal (relay answered 503: scripted 503): " +
        'this job will not park (a resumed run could repeat the step) and keeps waiting on its runner',
    ]);
  });

  it('journals a step redacted and within the journal limits', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.decisions.set('Tests', {
      state: 'failed',
      message: `${SECRET} ${'x'.repeat(3000)}`,
      progress: Array.from({ length: 7 }, (_, i) => ({ seq: i + 1, at: 0, message: `p${i} ${'y'.repeat(600)}` })),
    });
    const { fx, watch } = parkingEffects(h, { parkAfterMs: 3_600_000, watchClock: new ManualClock() });
    await runDeployment(plan([target('staging', { beforeDeployment: [webhook('Tests')] })]), 'octo/app/42', fx, watch.signal);
    const record = h.relay.parking.journal.find((e) => e.key === 'staging/beforeDeployment/0')?.record;
    if (record?.type !== 'step') throw new Error('no step entry');
    expect(record.step.message).toMatch(/^\*\*\* x+$/);
    expect([...(record.step.message ?? '')]).toHaveLength(2000);
    expect(record.step.progress.map((p) => p.slice(0, 2))).toEqual(['p2', 'p3', 'p4', 'p5', 'p6']);
    expect(record.step.progress.every((p) => p.length === 500)).toBe(true);
  });

  it('journals nothing and parks never without park-after (no extra request)', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    const { fx, watch } = parkingEffects(h, { parkAfterMs: null, writes: false });
    await runDeployment(plan([target('staging', { beforeDeployment: [webhook('Tests')], commands: { deploy: 'true' } })]), 'octo/app/42', fx, watch.signal);
    expect(requestLines(h.relay.requests)).toEqual(['target running', 'register Tests', 'poll', 'target succeeded']);
  });
});

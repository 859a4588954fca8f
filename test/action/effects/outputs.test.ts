/** Decision outputs (SPEC §11): from a callback or an approval into the step, the target's later templates and the replay. */
import { describe, expect, it } from 'vitest';
import { approvalOutputs, approvalStep } from '../../../action/effects/approval-gate.ts';
import { createTargetEffects } from '../../../action/effects/index.ts';
import { webhookGate } from '../../../action/effects/webhook-gate.ts';
import { runDeployment } from '../../../action/engine/run-targets.ts';
import { collectOutputs } from '../../../action/engine/report.ts';
import type { WebhookDef } from '../../../action/plan/plan.ts';
import type { JournalRecord } from '../../../shared/park.ts';
import { MAX_OUTPUTS_BYTES } from '../../../shared/protocol.ts';
import { ManualClock, approval, gateView, plan, target, webhook } from '../fakes.ts';
import { SECRET, harness, webhookDef } from './harness.ts';
import { entry, parkingEffects, stepEntry } from './park-helpers.ts';

const live = (): AbortSignal => new AbortController().signal;
const staging = target('staging');
const list = (key: string) => ({ items: [webhook('X')], keys: [key] });
const BUILD_BODY = '{"build":"{{outputs.Run-Tests.build}}","passed":"{{outputs.Run-Tests.passed}}","n":"{{outputs.Run-Tests.count}}"}';

describe('a webhook decision’s outputs', () => {
  it('become the step’s outputs, as the callback sent them', async () => {
    const h = harness({ webhooks: [webhookDef('Run-Tests')] });
    h.relay.decisions.set('Run-Tests', { state: 'succeeded', message: 'green', outputs: { build: 'b-17', passed: true, count: 412 } });
    const step = await webhookGate(h.ctx, staging, 'beforeDeployment', webhook('Run-Tests'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    expect(step).toMatchObject({ state: 'succeeded', outputs: { build: 'b-17', passed: true, count: 412 } });
  });

  it('are absent from a step whose decision carried none', async () => {
    const h = harness({ webhooks: [webhookDef('Run-Tests')] });
    h.relay.decisions.set('Run-Tests', { state: 'succeeded' });
    const step = await webhookGate(h.ctx, staging, 'beforeDeployment', webhook('Run-Tests'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    expect(step.state).toBe('succeeded');
    expect(step).not.toHaveProperty('outputs');
  });

  it('fill {{outputs.<step>.<key>}} in the target’s later steps as text, and reach the outputs output', async () => {
    const h = harness({ webhooks: [webhookDef('Run-Tests'), webhookDef('Deploy-Ticket', { bodyTemplate: BUILD_BODY, disableCallback: true })] });
    // `{{…}}` in a value is the system's text: sent as it is, never rendered again.
    h.relay.decisions.set('Run-Tests', { state: 'succeeded', outputs: { build: '{{secrets.TOKEN}}', passed: false, count: 3.5 } });
    const app = target('staging', { beforeDeployment: [webhook('Run-Tests')], afterDeployment: [webhook('Deploy-Ticket')] });
    const report = await runDeployment(plan([app]), 'octo/app/42', createTargetEffects(h.ctx), live());
    expect(report.result).toBe('succeeded');
    expect(h.webhookCalls.at(-1)?.body).toBe('{"build":"{{secrets.TOKEN}}","passed":"false","n":"3.5"}');
    expect(collectOutputs(report)).toEqual({ staging: { 'Run-Tests': { build: '{{secrets.TOKEN}}', passed: false, count: 3.5 } } });
  });

  it('of a later step of the same name replace the earlier one’s', async () => {
    const h = harness({ webhooks: [webhookDef('Check'), webhookDef('Use', { bodyTemplate: '{{outputs.Check.round}}', disableCallback: true })] });
    let round = 0;
    h.relay.decisions.set('Check', { state: 'succeeded' });
    const fx = createTargetEffects(h.ctx);
    for (const key of ['beforeDeployment/0', 'afterDeployment/0']) {
      round++;
      h.relay.decisions.set('Check', { state: 'succeeded', outputs: { round: `r${round}` } });
      await fx.gate(staging, 'beforeDeployment', webhook('Check'), key, live(), list(key));
    }
    await fx.gate(staging, 'afterDeployment', webhook('Use'), 'afterDeployment/1', live(), list('afterDeployment/1'));
    expect(h.webhookCalls.at(-1)?.body).toBe('r2');
  });

  it('are the target’s own: another target’s steps do not see them', async () => {
    const h = harness({ webhooks: [webhookDef('Run-Tests'), webhookDef('Use', { bodyTemplate: '{{outputs.Run-Tests.build}}', disableCallback: true })] });
    h.relay.decisions.set('Run-Tests', { state: 'succeeded', outputs: { build: 'b-1' } });
    const fx = createTargetEffects(h.ctx);
    await fx.gate(staging, 'beforeDeployment', webhook('Run-Tests'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    const step = await fx.gate(target('prod'), 'beforeDeployment', webhook('Use'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    expect(step.state).toBe('failed');
    expect(step.message).toContain('no step named Run-Tests ended before this one in target prod');
  });
});

describe('outputs in a later step’s request', () => {
  const sneaky = { build: 'b-17&channel=%23general', note: 'ok", "rollback": true, "x": "', crlf: 'b-17\r\nX-Admin: 1' };
  const announce = (fields: Partial<WebhookDef>) =>
    harness({ webhooks: [webhookDef('Run-Tests'), webhookDef('Announce', { disableCallback: true, ...fields })] });
  const run = async (h: ReturnType<typeof harness>) => {
    h.relay.decisions.set('Run-Tests', { state: 'succeeded', outputs: sneaky });
    const fx = createTargetEffects(h.ctx);
    await fx.gate(staging, 'beforeDeployment', webhook('Run-Tests'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    return fx.gate(staging, 'afterDeployment', webhook('Announce'), 'afterDeployment/0', live(), list('afterDeployment/0'));
  };

  it('are data: a quote adds no JSON field, an & no query parameter', async () => {
    const h = announce({
      uriTemplate: 'https://chat.example/hooks?build={{outputs.Run-Tests.build}}',
      bodyTemplate: '{"rollback": false, "note": "{{outputs.Run-Tests.note}}"}',
    });
    expect((await run(h)).state).toBe('succeeded');
    const sent = h.webhookCalls.at(-1);
    expect(JSON.parse(sent?.body ?? '')).toEqual({ rollback: false, note: sneaky.note });
    const url = new URL(sent?.url ?? '');
    expect([url.searchParams.get('build'), url.searchParams.has('channel')]).toEqual([sneaky.build, false]);
  });

  it('with a line break fail the step when they would go into a header, and nothing is sent', async () => {
    const h = announce({ headers: [{ key: 'X-Build', value: '{{outputs.Run-Tests.crlf}}' }] });
    const step = await run(h);
    expect(step.state).toBe('failed');
    expect(step.message).toContain('{{outputs.Run-Tests.crlf}} cannot go into a header');
    expect(h.webhookCalls).toHaveLength(1);
  });
});

describe('a missing output', () => {
  it('fails the step naming the key and what the decision carried, and sends nothing', async () => {
    const h = harness({ webhooks: [webhookDef('Run-Tests'), webhookDef('Deploy', { bodyTemplate: '{"b":"{{outputs.Run-Tests.build}}"}' })] });
    h.relay.decisions.set('Run-Tests', { state: 'succeeded', outputs: { passed: true, url: 'https://ci.example/1' } });
    const fx = createTargetEffects(h.ctx);
    await fx.gate(staging, 'beforeDeployment', webhook('Run-Tests'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    const step = await fx.gate(staging, 'afterDeployment', webhook('Deploy'), 'afterDeployment/0', live(), list('afterDeployment/0'));
    expect(step).toMatchObject({
      state: 'failed',
      message: "{{outputs.Run-Tests.build}}: the decision of Run-Tests carried no output 'build' (it carried: passed, url)",
    });
    expect(h.webhookCalls).toHaveLength(1);
    expect([...h.relay.gates.values()].map((g) => g.name)).toEqual(['Run-Tests']);
  });

  it('says "none" when the decision carried no outputs, and names a step that never ended', async () => {
    const h = harness({
      webhooks: [webhookDef('Run-Tests'), webhookDef('Deploy', { bodyTemplate: '{{outputs.Run-Tests.build}}' }), webhookDef('Later', { uriTemplate: 'https://ci.example/{{outputs.Smoke.id}}' })],
    });
    h.relay.decisions.set('Run-Tests', { state: 'succeeded' });
    const fx = createTargetEffects(h.ctx);
    await fx.gate(staging, 'beforeDeployment', webhook('Run-Tests'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    const deploy = await fx.gate(staging, 'afterDeployment', webhook('Deploy'), 'afterDeployment/0', live(), list('afterDeployment/0'));
    expect(deploy.message).toBe("{{outputs.Run-Tests.build}}: the decision of Run-Tests carried no output 'build' (it carried: none)");
    const later = await fx.gate(staging, 'afterDeployment', webhook('Later'), 'afterDeployment/1', live(), list('afterDeployment/1'));
    expect(later.message).toBe(
      '{{outputs.Smoke.id}}: no step named Smoke ended before this one in target staging, so there is no output to use (outputs come from an earlier step of the same target)',
    );
    expect(h.webhookCalls).toHaveLength(1);
  });

  it('in a cancelTemplate fails the step before the call too', async () => {
    const cancel = { method: 'DELETE', uriTemplate: 'https://ci.example/{{outputs.Run-Tests.job}}', headers: [], bodyTemplate: null };
    const h = harness({ webhooks: [webhookDef('Deploy', { cancel })] });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', webhook('Deploy'), 'afterDeployment/0', live(), list('afterDeployment/0'));
    expect(step.state).toBe('failed');
    expect(h.webhookCalls).toEqual([]);
  });
});

describe('an approval’s outputs', () => {
  const decided = (fields: Parameters<typeof gateView>[0]) => approvalOutputs(gateView({ kind: 'approval', ...fields }));

  it('say approved, the comment and who approved: signed-in logins without @, else the typed name', () => {
    expect(decided({ state: 'succeeded', message: 'ship it', decidedBy: '@mona, @hubot' })).toEqual({ decision: 'approved', comment: 'ship it', approvedBy: 'mona,hubot' });
    expect(decided({ state: 'succeeded', message: null, decidedBy: 'Ada Lovelace' })).toEqual({ decision: 'approved', comment: '', approvedBy: 'Ada Lovelace' });
  });

  it('say rejected with the comment and nobody approving; an approval nobody decided has none', () => {
    expect(decided({ state: 'failed', message: 'not on a Friday', decidedBy: '@mona' })).toEqual({ decision: 'rejected', comment: 'not on a Friday', approvedBy: '' });
    expect(decided({ state: 'timed-out' })).toBeNull();
    expect(decided({ state: 'canceled', message: 'withdrawn' })).toBeNull();
  });

  it('are the approval step’s outputs and reach later steps as {{outputs.approval.*}}', async () => {
    const h = harness({ webhooks: [webhookDef('Notify', { bodyTemplate: '{{outputs.approval.decision}} by {{outputs.approval.approvedBy}}: {{outputs.approval.comment}}', disableCallback: true })] });
    h.relay.decisions.set('manual approval', { state: 'succeeded', message: 'go', decidedBy: '@mona' });
    const fx = createTargetEffects(h.ctx);
    const step = await fx.gate(staging, 'beforeDeployment', approval(), 'beforeDeployment/0', live(), { items: [approval()], keys: ['beforeDeployment/0'] });
    expect(step.outputs).toEqual({ decision: 'approved', comment: 'go', approvedBy: 'mona' });
    await fx.gate(staging, 'afterDeployment', webhook('Notify'), 'afterDeployment/0', live(), list('afterDeployment/0'));
    expect(h.webhookCalls[0]?.body).toBe('approved by mona: go');
  });

  it('of an expired approval are absent from its step', async () => {
    const h = harness();
    h.relay.decisions.set('manual approval', { state: 'timed-out' });
    const step = await approvalStep(h.ctx, staging, 'beforeDeployment', approval(), 'beforeDeployment/0', live());
    expect(step.state).toBe('timed-out');
    expect(step).not.toHaveProperty('outputs');
  });
});

describe('outputs and the journal', () => {
  const never = { parkAfterMs: 3_600_000, watchClock: new ManualClock() };

  it('a replayed step hands its journaled outputs on as the original did', async () => {
    const h = harness({ webhooks: [webhookDef('Run-Tests'), webhookDef('Deploy', { bodyTemplate: BUILD_BODY, disableCallback: true })] });
    const replayed = stepEntry('staging/beforeDeployment/0', 'webhook', 'Run-Tests', 'beforeDeployment', 1);
    const record = replayed.record as Extract<JournalRecord, { type: 'step' }>;
    const entries = [entry(replayed.key, { type: 'step', step: { ...record.step, outputs: { build: 'b-9', passed: true, count: 7 } } }, 1)];
    const { fx, watch } = parkingEffects(h, { ...never, entries });
    const app = target('staging', { beforeDeployment: [webhook('Run-Tests')], afterDeployment: [webhook('Deploy')] });
    const report = await runDeployment(plan([app]), 'octo/app/42', fx, watch.signal);
    expect(h.webhookCalls.map((c) => c.body)).toEqual(['{"build":"b-9","passed":"true","n":"7"}']);
    expect(report.targets[0]?.steps[0]?.outputs).toEqual({ build: 'b-9', passed: true, count: 7 });
  });

  it('records a step’s outputs, secrets masked, for a resumed run', async () => {
    const h = harness({ webhooks: [webhookDef('Run-Tests')] });
    h.relay.decisions.set('Run-Tests', { state: 'succeeded', outputs: { token: `echo ${SECRET}`, n: 1 } });
    const { fx } = parkingEffects(h, never);
    await fx.gate(staging, 'beforeDeployment', webhook('Run-Tests'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    const written = h.relay.parking.journal.find((e) => e.key === 'staging/beforeDeployment/0');
    expect(written?.record).toMatchObject({ type: 'step', step: { outputs: { token: 'echo ***', n: 1 } } });
  });

  it('keeps large outputs whole, dropping the progress and message to fit the relay’s body limit', async () => {
    const h = harness({ webhooks: [webhookDef('Run-Tests')] });
    const big = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(1550)]));
    const progress = Array.from({ length: 5 }, (_, i) => ({ seq: i + 1, at: 0, message: 'p'.repeat(500) }));
    h.relay.decisions.set('Run-Tests', { state: 'succeeded', message: 'm'.repeat(2000), progress, outputs: big });
    const { fx } = parkingEffects(h, never);
    await fx.gate(staging, 'beforeDeployment', webhook('Run-Tests'), 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    const written = h.relay.parking.journal.find((e) => e.key === 'staging/beforeDeployment/0');
    expect(written?.record).toMatchObject({ type: 'step', step: { outputs: big, progress: [] } });
    const request = h.relay.requests.find((r) => r.path === '/v1/runs/journal' && (r.body as { key: string }).key === 'staging/beforeDeployment/0');
    expect(new TextEncoder().encode(JSON.stringify(request?.body)).length).toBeLessThanOrEqual(64 * 1024);
  });
});

describe('the journal entry of a step with the largest outputs', () => {
  it('keeps them whole and fits the relay’s journal route (96 KiB, MAX_JOURNAL_BODY_BYTES), past the 64 KiB of other routes', async () => {
    const name = `Run-Tests-${'n'.repeat(180)}`;
    const h = harness({ webhooks: [webhookDef(name)] });
    // A decision's outputs may take MAX_OUTPUTS_BYTES (64 KiB) as JSON.
    const value = 'x'.repeat(MAX_OUTPUTS_BYTES - 40_000 - 20);
    const outputs = { a: 'y'.repeat(40_000), b: value };
    expect(new TextEncoder().encode(JSON.stringify(outputs)).length).toBeLessThanOrEqual(MAX_OUTPUTS_BYTES);
    h.relay.decisions.set(name, { state: 'succeeded', message: 'm'.repeat(2000), outputs });
    const { fx } = parkingEffects(h, { parkAfterMs: 3_600_000, watchClock: new ManualClock() });
    const key = `beforeDeployment/${'k'.repeat(700)}`;
    await fx.gate(staging, 'beforeDeployment', webhook(name), key, live(), { items: [webhook(name)], keys: [key] });
    const request = h.relay.requests.find((r) => r.path === '/v1/runs/journal' && (r.body as { key: string }).key === `staging/${key}`);
    expect(request?.body).toMatchObject({ record: { type: 'step', step: { outputs, message: null, progress: [] } } });
    const size = new TextEncoder().encode(JSON.stringify(request?.body)).length;
    expect(size).toBeGreaterThan(64 * 1024);
    expect(size).toBeLessThanOrEqual(96 * 1024);
  });
});

describe('the context a webhook renders', () => {
  it('is the step’s over the target’s contextOverrides over the file’s over the input’s', async () => {
    const body = '{{context.a}} {{context.b}} {{context.c}} {{context.d}}';
    const h = harness({ webhooks: [webhookDef('W', { bodyTemplate: body, disableCallback: true })], plan: { context: { a: 'file', b: 'file', c: 'file' } }, settings: { context: { a: 'input', d: 'input' } } });
    const prod = target('prod', { context: { b: 'target', c: 'target' } });
    const item = { ...webhook('W'), context: { c: 'step' } };
    await webhookGate(h.ctx, prod, 'beforeDeployment', item, 'beforeDeployment/0', live(), list('beforeDeployment/0'));
    expect(h.webhookCalls[0]?.body).toBe('file target step input');
  });
});

import { describe, expect, it } from 'vitest';
import { webhookGate } from '../../../action/effects/webhook-gate.ts';
import type { GateItem } from '../../../action/plan/plan.ts';
import { approval as approvalItem, target, webhook } from '../fakes.ts';
import { harness, webhookDef } from './harness.ts';

const live = (): AbortSignal => new AbortController().signal;
const staging = target('staging');
const item = webhook('Tests');
const alone = { items: [item], keys: ['afterDeployment/0'] };
const cancel = { method: 'DELETE', uriTemplate: 'https://ci.example/runs/{{armory.deploymentId}}', headers: [], bodyTemplate: null };

describe('webhookGate', () => {
  it('registers its gate, calls the system with the callback URI, and passes on a successful callback', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.decisions.set('Tests', { state: 'succeeded', message: 'all green', progress: [{ seq: 1, at: 0, message: 'half way' }] });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    const gate = h.relay.gate('Tests');
    expect(h.webhookCalls).toEqual([
      { method: 'POST', url: 'https://ci.example/hooks/s3cr3t-value-xyz', body: `{"callback":"${gate.callbackUri}","approval":""}` },
    ]);
    expect(step).toMatchObject({ kind: 'webhook', name: 'Tests', phase: 'afterDeployment', state: 'succeeded', message: 'all green', progress: ['half way'] });
    expect(h.story()).toEqual([
      `[staging] Gate registered for webhook Tests (afterDeployment); it times out at ${new Date(gate.deadline).toISOString()}`,
      '[staging] Webhook Tests called: POST ci.example answered 200',
      '[staging] Waiting for the callback of Tests …',
      '[staging] Progress from Tests: half way',
      '[staging] Callback for Tests: success — all green',
    ]);
  });

  it('fills {{hookgate.approvalUrl}} with the link of the approval in its list', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { disableCallback: true })] });
    const approval: GateItem = approvalItem();
    await webhookGate(h.ctx, staging, 'beforeDeployment', item, 'beforeDeployment/1', live(), { items: [approval, item], keys: ['beforeDeployment/0', 'beforeDeployment/1'] });
    expect(h.webhookCalls[0]?.body).toContain(`"approval":"${h.relay.gate('manual approval').approvalUrl}"`);
  });

  it('registers its own gate without an approval policy, beside an approval of its list that has one', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.decisions.set('Tests', { state: 'succeeded' });
    const approval: GateItem = approvalItem({ approvers: ['mona'], preventSelfReview: true });
    await webhookGate(h.ctx, staging, 'beforeDeployment', item, 'beforeDeployment/1', live(), { items: [approval, item], keys: ['beforeDeployment/0', 'beforeDeployment/1'] });
    const registrations = h.relay.requests.filter((r) => r.path === '/v1/gates').map((r) => r.body as Record<string, unknown>);
    const byName = new Map(registrations.map((r) => [r.name, r]));
    expect(byName.get('manual approval')?.approval).toEqual({ approvers: ['mona'], minimumApprovals: 1, preventSelfReview: true, initiator: '' });
    expect(byName.get('Tests')).toBeDefined();
    expect(byName.get('Tests')).not.toHaveProperty('approval');
  });

  it('withdraws its gate when the call fails, and fails naming only the host', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.answer = () => new Response('boom', { status: 500 });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(step).toMatchObject({ state: 'failed', message: 'the call to POST ci.example failed after 1 attempt(s): HTTP 500: boom' });
    expect(h.relay.gate('Tests')).toMatchObject({ state: 'canceled', message: 'the webhook call failed: HTTP 500: boom' });
  });

  // The client keeps the first 300 characters of an error body, which may end inside an emoji.
  it('withdraws its gate even when the error body quoted in the reason was cut inside an emoji', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.answer = () => new Response(`${'x'.repeat(299)}🚀`, { status: 500 });
    await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(h.relay.gate('Tests').state).toBe('canceled');
    expect(h.log.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
  });

  it('with disableCallback registers no gate and passes on the HTTP answer', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { disableCallback: true })] });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(h.relay.gates.size).toBe(0);
    expect(step).toMatchObject({ state: 'succeeded', message: 'answered 200; no callback awaited (disableCallback)' });
  });

  it('does not call again when an earlier try of the step already got its answer', async () => {
    const h = harness({ webhooks: [webhookDef('Tests')] });
    h.relay.registeredAs.set('Tests', { state: 'failed', message: '3 tests failed', created: false });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(h.webhookCalls).toEqual([]);
    expect(step).toMatchObject({ state: 'failed', message: '3 tests failed' });
    expect(h.story().at(-1)).toBe('[staging] Callback for Tests: failure — 3 tests failed');
  });

  it('on cancel withdraws the gate first, then tells the system through cancelTemplate', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { cancel })] });
    h.relay.holdPolls = true;
    const run = new AbortController();
    const waiting = webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', run.signal, alone);
    await new Promise((r) => setTimeout(r, 5));
    run.abort(new Error('the workflow job was canceled'));
    expect(await waiting).toMatchObject({ state: 'canceled', message: 'canceled: the workflow job was canceled' });
    expect(h.relay.gate('Tests')).toMatchObject({ state: 'canceled', message: 'withdrawn: the workflow job was canceled' });
    expect(h.webhookCalls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST https://ci.example/hooks/s3cr3t-value-xyz', 'DELETE https://ci.example/runs/octo/app/42']);
    expect(h.story().at(-1)).toBe('[staging] Told ci.example that Tests is no longer needed (the workflow job was canceled): DELETE answered 200');
  });

  it('tells the system through cancelTemplate when its gate timed out; a failed cancel is a warning', async () => {
    const h = harness({ webhooks: [webhookDef('Tests', { cancel })] });
    h.relay.decisions.set('Tests', { state: 'timed-out', message: null });
    h.answer = (call) => new Response(null, { status: call.method === 'DELETE' ? 404 : 200 });
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(step.state).toBe('timed-out');
    expect(h.log.lines).toContain('warning: [staging] the cancelTemplate call of Tests to DELETE ci.example failed: HTTP 404');
    expect(h.story().at(-1)).toBe('[staging] Tests timed out');
  });

  it('fails a webhook the plan does not define', async () => {
    const h = harness();
    const step = await webhookGate(h.ctx, staging, 'afterDeployment', item, 'afterDeployment/0', live(), alone);
    expect(step).toMatchObject({ state: 'failed', message: 'webhook Tests is not defined' });
  });
});

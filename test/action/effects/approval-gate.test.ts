import { describe, expect, it, vi } from 'vitest';
import { approvalStep, approvalUrlOf } from '../../../action/effects/approval-gate.ts';
import type { GateItem } from '../../../action/plan/plan.ts';
import { approval as approvalItem, target, webhook } from '../fakes.ts';
import { coreLog } from '../../../action/output/log.ts';
import { createRedactor } from '../../../action/output/redact.ts';
import { runnerCommandLines } from '../output/runner-commands.ts';
import { SECRET, harness } from './harness.ts';

const APPROVAL_NAME = 'manual approval';
const live = (): AbortSignal => new AbortController().signal;
const prod = target('prod');
const approval = (roles: string[] = []): Extract<GateItem, { kind: 'approval' }> => approvalItem({ expirationSeconds: 600, roles, ownerTeams: roles });

describe('the approval gate’s registration', () => {
  it('is shared by the step and the webhooks of its list, and logs the link with its expiry and roles', async () => {
    const h = harness();
    h.relay.decisions.set(APPROVAL_NAME, { state: 'succeeded', decidedBy: 'ada' });
    const list = { items: [webhook('Notify'), approval(['sre'])], keys: ['beforeDeployment/0', 'beforeDeployment/1'] };
    const [url] = await Promise.all([
      approvalUrlOf(h.ctx, prod, 'beforeDeployment', list, live()),
      approvalStep(h.ctx, prod, 'beforeDeployment', approval(['sre']), 'beforeDeployment/1', live()),
    ]);
    const gate = h.relay.gate(APPROVAL_NAME);
    expect(url).toBe(gate.approvalUrl);
    expect(h.relay.requests.filter((r) => r.path === '/v1/gates')).toHaveLength(1);
    expect(h.relay.requests[0]?.body).toMatchObject({ kind: 'approval', name: APPROVAL_NAME, timeoutSeconds: 600, requiresRoles: ['sre'] });
    expect(h.story()[0]).toBe(
      `[prod] Approval needed (beforeDeployment; may be decided by @octo/sre): open ${gate.approvalUrl} to approve or reject; it expires at ${new Date(gate.deadline).toISOString()}`,
    );
  });

  it('is forgotten when it failed, so the next try registers afresh', async () => {
    const h = harness();
    h.relay.refusals.set('POST /v1/gates', 503);
    h.relay.decisions.set(APPROVAL_NAME, { state: 'succeeded' });
    expect((await approvalStep(h.ctx, prod, 'beforeDeployment', approval(), 'beforeDeployment/0', live())).state).toBe('failed');
    expect((await approvalStep(h.ctx, prod, 'beforeDeployment', approval(), 'beforeDeployment/0', live())).state).toBe('succeeded');
    expect(h.relay.gates.size).toBe(1);
  });

  it('gives a webhook without an approval in its list, or whose approval cannot be registered, no link', async () => {
    const h = harness();
    expect(await approvalUrlOf(h.ctx, prod, 'beforeDeployment', { items: [webhook('Notify')], keys: ['beforeDeployment/0'] }, live())).toBe('');
    h.relay.refusals.set('POST /v1/gates', 500);
    expect(await approvalUrlOf(h.ctx, prod, 'beforeDeployment', { items: [approval()], keys: ['beforeDeployment/0'] }, live())).toBe('');
  });
});

describe('the approval gate’s policy', () => {
  const github = harness().ctx.settings.github;
  const registered = (h: ReturnType<typeof harness>): unknown => (h.relay.requests.find((r) => r.path === '/v1/gates')?.body as { approval?: unknown }).approval;

  it('sends who may decide, the approvals needed, self-review and the initiator, and logs who may decide', async () => {
    const h = harness({ settings: { github: { ...github, initiator: 'hubot' } } });
    h.relay.decisions.set(APPROVAL_NAME, { state: 'succeeded', decidedBy: '@mona, @octocat' });
    const item = approvalItem({ roles: ['release', 'sre'], approvers: ['@acme/release-team', 'mona'], ownerTeams: ['sre'], minimumApprovals: 2, preventSelfReview: true });
    const step = await approvalStep(h.ctx, prod, 'beforeDeployment', item, 'beforeDeployment/0', live());
    expect(registered(h)).toEqual({ approvers: ['@acme/release-team', 'mona', '@octo/sre'], minimumApprovals: 2, preventSelfReview: true, initiator: 'hubot' });
    expect(h.relay.requests[0]?.body).toMatchObject({ requiresRoles: ['release', 'sre'] });
    expect(h.story()[0]).toMatch(
      /^\[prod\] Approval needed \(beforeDeployment; may be decided by @acme\/release-team or @mona or @octo\/sre; 2 approvals needed; not by @hubot, the person who started the run\): open /,
    );
    expect(step.message).toBe('approved by @mona, @octocat');
  });

  it('leaves the decision to anyone with write access when the pause names no role', async () => {
    const h = harness();
    h.relay.decisions.set(APPROVAL_NAME, { state: 'succeeded' });
    await approvalStep(h.ctx, prod, 'afterDeployment', approval(), 'afterDeployment/0', live());
    expect(registered(h)).toEqual({ approvers: [], minimumApprovals: 1, preventSelfReview: false, initiator: '' });
    expect(h.story()[0]).toMatch(/^\[prod\] Approval needed \(afterDeployment; may be decided by anyone with write access to octo\/app\): open /);
  });

  it('names no one as the initiator when the run does not say who started it', async () => {
    const h = harness();
    await approvalUrlOf(h.ctx, prod, 'beforeDeployment', { items: [approvalItem({ preventSelfReview: true })], keys: ['beforeDeployment/0'] }, live());
    expect(h.story()[0]).toContain('(beforeDeployment; may be decided by anyone with write access to octo/app; not by the person who started the run)');
  });

  it('cuts an initiator to the relay’s 100 characters, so the registration is accepted', async () => {
    const h = harness({ settings: { github: { ...github, initiator: 'x'.repeat(150) } } });
    const url = await approvalUrlOf(h.ctx, prod, 'beforeDeployment', { items: [approvalItem({ preventSelfReview: true })], keys: ['beforeDeployment/0'] }, live());
    expect(url).not.toBe('');
    expect(registered(h)).toMatchObject({ initiator: 'x'.repeat(100) });
  });

  it('logs who may decide as plain, redacted text: an initiator cannot start a workflow command', async () => {
    let stdout = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    try {
      const h = harness({ log: coreLog(createRedactor([SECRET])), settings: { github: { ...github, initiator: `eve\n::error::pwned ${SECRET}` } } });
      await approvalUrlOf(h.ctx, prod, 'beforeDeployment', { items: [approvalItem({ preventSelfReview: true })], keys: ['beforeDeployment/0'] }, live());
    } finally {
      write.mockRestore();
    }
    expect(stdout).toContain('Approval needed');
    expect(stdout).not.toContain(SECRET);
    expect(runnerCommandLines(stdout)).toEqual([]);
  });
});

describe('approvalStep', () => {
  it.each([
    [{ state: 'succeeded' as const, decidedBy: 'ada', message: 'ship it' }, 'succeeded', 'approved by ada: ship it'],
    [{ state: 'failed' as const, decidedBy: null, message: null }, 'failed', 'rejected by anonymous'],
    [{ state: 'superseded' as const, message: null }, 'canceled', 'superseded by a re-run'],
    [{ state: 'canceled' as const, message: null }, 'canceled', 'the approval was withdrawn'],
  ])('a decision %o ends the step %s: %s', async (decision, state, message) => {
    const h = harness();
    h.relay.decisions.set(APPROVAL_NAME, decision);
    const step = await approvalStep(h.ctx, prod, 'afterDeployment', approval(), 'afterDeployment/0', live());
    expect(step).toMatchObject({ kind: 'approval', name: APPROVAL_NAME, phase: 'afterDeployment', state, message });
    expect(h.story().at(-1)).toBe(`[prod] Approval (afterDeployment): ${message}`);
  });

  it('names the expiry of an approval that timed out', async () => {
    const h = harness();
    h.relay.decisions.set(APPROVAL_NAME, { state: 'timed-out' });
    const step = await approvalStep(h.ctx, prod, 'beforeDeployment', approval(), 'beforeDeployment/0', live());
    expect(step.state).toBe('timed-out');
    expect(step.message).toMatch(/^the approval expired at \S+ without a decision$/);
  });

  it('withdraws its gate at the relay when the run is canceled while it waits', async () => {
    const h = harness();
    h.relay.holdPolls = true;
    const run = new AbortController();
    const waiting = approvalStep(h.ctx, prod, 'beforeDeployment', approval(), 'beforeDeployment/0', run.signal);
    await new Promise((r) => setTimeout(r, 5));
    run.abort(new Error('the workflow job was canceled'));
    expect(await waiting).toMatchObject({ state: 'canceled', message: 'withdrawn: the workflow job was canceled' });
    expect(h.relay.gate(APPROVAL_NAME)).toMatchObject({ state: 'canceled', message: 'withdrawn: the workflow job was canceled' });
  });

  it('fails with the relay’s answer when the gate cannot be registered', async () => {
    const h = harness();
    h.relay.refusals.set('POST /v1/gates', 422);
    const step = await approvalStep(h.ctx, prod, 'beforeDeployment', approval(), 'beforeDeployment/0', live());
    expect(step).toMatchObject({ state: 'failed', message: 'relay answered 422: scripted 422' });
  });
});

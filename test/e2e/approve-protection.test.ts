/**
 * GitHub's own custom deployment protection rule (issue 12), end to end: job 1 runs the action in
 * gate mode (`target: prod`, `phase: beforeDeployment`, `park-after: 0s`) against the real relay;
 * the fake GitHub asks the App's rule about `environment: prod` of that run through a signed
 * `deployment_protection_rule` delivery; the relay reviews it once prod's gates are final, with
 * the installation token, on the callback URL. Unsigned and forged deliveries change nothing.
 */
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESUME_INPUT } from '../../shared/park.ts';
import type { RunnerJob } from '../../scripts/run-action.ts';
import type { ProtectionReview } from '../support/github-api.ts';
import { REPOSITORY, WEBHOOK_SECRET, startApproveWorld } from './approve-harness.ts';
import type { ApproveWorld } from './approve-harness.ts';
import { COMMANDS, callbackUriOf, webhook } from './harness.ts';
import { postCallback } from './scripted-system.ts';
import { Started } from './started.ts';

const started = new Started();
let w: ApproveWorld;
beforeAll(async () => {
  w = await started.add(() => startApproveWorld(false), (world) => world.close());
});
afterAll(() => started.stopAll());

const EVENT = 'deployment_protection_rule';
let runs = 0;
/** A job of a new run whose id is shaped like GitHub's today (11 digits; scripts' newJob makes 16). */
function newJob(): RunnerJob {
  runs += 1;
  return { runId: String(20_000_000_000 + Math.floor(Math.random() * 1e6) * 1000 + runs), runAttempt: '1' };
}
const GATE_INPUTS = { target: 'prod', phase: 'beforeDeployment', 'park-after': '0s' };
const reviewsOf = (runner: RunnerJob): ProtectionReview[] => w.github.protectionReviews.filter((r) => r.runId === runner.runId);
/** What the fake refused of the relay's requests about protection rules (none when the relay sends what GitHub takes). */
const protectionRefusals = () => w.github.refusals().filter((r) => r.path.endsWith('/deployment_protection_rule'));

/** prod's beforeDeployment gates: the named webhook (answered by the test) and Scan (passes at once). */
function prodGates(name: string): string {
  return `
${COMMANDS}
targets:
  prod:
    constraints:
      beforeDeployment:
        - runWebhook: { name: ${name} }
        - runWebhook: { name: Scan }
webhooks:
${webhook(name, 'decision=none')}
${webhook('Scan', 'message=no+findings')}
`;
}

/** Job 1 of a new run: hookgate in gate mode for prod, parked once it only waits. */
async function parkedGateJob(file: string): Promise<RunnerJob> {
  const ws = await w.h.workspace(file);
  const runner = newJob();
  const run = await (await w.start(ws, GATE_INPUTS, {}, runner)).done;
  expect(run.outputs.result, `${run.stdout}\n${run.stderr}`).toBe('parked');
  return runner;
}

/** GitHub asks the rule about `environment` of `runner`'s run: the signed delivery's status. */
async function ruleRequested(runner: RunnerJob, environment = 'prod'): Promise<number> {
  const payload = w.github.protectionRuleRequested({ repository: REPOSITORY, runId: runner.runId, environment });
  return (await w.deliver(EVENT, payload)).status;
}

async function reviewOf(runner: RunnerJob): Promise<ProtectionReview> {
  await expect.poll(() => reviewsOf(runner).length, { timeout: 30_000, interval: 200 }).toBeGreaterThan(0);
  const [review, ...more] = reviewsOf(runner);
  expect(more).toEqual([]);
  return review!;
}

describe('webhook deliveries', () => {
  it('a forged, tampered or unsigned delivery gets 401 and changes nothing; the same delivery signed is acted on', async () => {
    const runner = newJob();
    const payload = w.github.protectionRuleRequested({ repository: REPOSITORY, runId: runner.runId, environment: 'prod' });
    const tampered = await sign(WEBHOOK_SECRET, JSON.stringify({ ...payload, environment: 'staging' }));
    const refused = [
      await w.deliver(EVENT, payload, { otherSecret: 'not-the-webhook-secret' }),
      await w.deliver(EVENT, payload, { header: tampered }),
      await w.deliver(EVENT, payload, { header: `sha256=${'0'.repeat(64)}` }),
      await w.deliver(EVENT, payload, 'none'),
    ];
    expect(refused.map((d) => d.status)).toEqual([401, 401, 401, 401]);
    await new Promise((r) => setTimeout(r, 2000));
    expect(reviewsOf(runner)).toEqual([]);

    expect((await w.deliver('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).status).toBe(200);
    expect((await w.deliver('push', { ref: 'refs/heads/main' })).status).toBe(202);
    // Signed, the same request is answered: this run registered no gate for prod, so at once rejected.
    const signed = await w.deliver(EVENT, payload);
    expect(signed.status).toBeLessThan(300);
    const review = await reviewOf(runner);
    expect(review).toMatchObject({ environment: 'prod', state: 'rejected' });
    expect(review.comment).toMatch(/no\b.*gate/i);
    expect(protectionRefusals()).toEqual([]);
  });
});

describe('the deployment protection rule', () => {
  it('approves once prod’s gates passed, the comment listing each gate; no workflow dispatch resumes the parked job', async () => {
    const runner = await parkedGateJob(prodGates('Ticket'));
    expect(await ruleRequested(runner)).toBeLessThan(300);
    // Ticket is still pending: GitHub is not answered yet.
    await new Promise((r) => setTimeout(r, 1500));
    expect(reviewsOf(runner)).toEqual([]);

    expect((await postCallback(callbackUriOf(w.h.external, '/hooks/Ticket'), { success: true, mdMessage: 'change CHG-1 approved' })).status).toBe(200);
    const review = await reviewOf(runner);
    expect(review).toMatchObject({ repository: REPOSITORY, environment: 'prod', state: 'approved' });
    expect(review.comment).toContain('Ticket');
    expect(review.comment).toContain('change CHG-1 approved');
    expect(review.comment).toContain('Scan');
    expect([...review.comment].length).toBeLessThanOrEqual(1000);
    // GitHub's rule resumes this deployment (job 2 starts), not a workflow dispatch.
    await new Promise((r) => setTimeout(r, 1500));
    expect(w.github.workflowDispatches.filter((d) => d.inputs[RESUME_INPUT] === `${REPOSITORY}/${runner.runId}`)).toEqual([]);
    expect(protectionRefusals()).toEqual([]);
  });

  it('rejects when one of prod’s gates fails, the failure in the comment', async () => {
    const runner = await parkedGateJob(prodGates('Change'));
    expect(await ruleRequested(runner)).toBeLessThan(300);
    expect((await postCallback(callbackUriOf(w.h.external, '/hooks/Change'), { success: false, mdMessage: 'CHG-2 refused: change freeze' })).status).toBe(200);
    const review = await reviewOf(runner);
    expect(review).toMatchObject({ environment: 'prod', state: 'rejected' });
    expect(review.comment).toContain('Change');
    expect(review.comment).toContain('CHG-2 refused: change freeze');
    expect(protectionRefusals()).toEqual([]);
  });

  it('approves at once when the gates passed before GitHub asked', async () => {
    const ws = await w.h.workspace(`
${COMMANDS}
targets:
  prod:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Scan }
webhooks:
${webhook('Scan', 'message=no+findings')}
`);
    const runner = newJob();
    // No park-after: the job waits for Scan and ends green before GitHub asks (job 2 is queued after it).
    const run = await (await w.start(ws, { target: 'prod', phase: 'beforeDeployment' }, {}, runner)).done;
    expect(run.outputs.result, run.stdout).toBe('succeeded');
    expect(await ruleRequested(runner)).toBeLessThan(300);
    const review = await reviewOf(runner);
    expect(review).toMatchObject({ environment: 'prod', state: 'approved' });
    expect(review.comment).toContain('no findings');
  });

  it('rejects at once, saying so, when the run registered no gate for that environment', async () => {
    const runner = await parkedGateJob(prodGates('Other'));
    expect(await ruleRequested(runner, 'staging')).toBeLessThan(300);
    const review = await reviewOf(runner);
    expect(review).toMatchObject({ environment: 'staging', state: 'rejected' });
    expect(review.comment).toMatch(/no\b.*gate/i);
    expect(review.comment).toContain('staging');
    // prod's own rule is still answered when its gates are final.
    expect(await ruleRequested(runner)).toBeLessThan(300);
    expect((await postCallback(callbackUriOf(w.h.external, '/hooks/Other'), { success: true })).status).toBe(200);
    await expect.poll(() => reviewsOf(runner).map((r) => [r.environment, r.state]), { timeout: 30_000 }).toEqual([
      ['staging', 'rejected'],
      ['prod', 'approved'],
    ]);
  });
});

/**
 * Park and resume end to end (issue 11): the real relay with a GitHub App whose key is PKCS#1, as
 * GitHub hands it out; a fake GitHub that checks the App JWT, the installation token and the
 * dispatch body; the test plays the runner, starting `node dist/index.js` when GitHub is asked to.
 */
import { readFile, readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Health, RESUME_INPUT } from '../../shared/park.ts';
import { relayVariablesIn } from '../../scripts/local-relay.ts';
import { WORKFLOW_FILE, rerunOf } from '../../scripts/run-action.ts';
import { APPROVAL_LINE, decideByForm } from '../support/approval-form.ts';
import { callbackUriOf, reportOf, secretFree, webhook } from './harness.ts';
import { COUNTING_COMMANDS, linesOf, processesIn, pushedRun, startParkWorld } from './park-harness.ts';
import type { ParkWorld } from './park-harness.ts';
import { postCallback } from './scripted-system.ts';
import { Started } from './started.ts';

const started = new Started();
let w: ParkWorld;
beforeAll(async () => {
  w = await started.add(() => startParkWorld({ pkcs1: true }), (world) => world.close());
});
afterAll(() => started.stopAll());

/**
 * dev deploys at once; staging waits on Change-<tag> (nobody answers: the test calls back), deploys,
 * then Smoke-<tag>. The tag keeps each test's webhook calls apart at the shared external system.
 */
const webhookFile = (tag: string): string => `
${COUNTING_COMMANDS}
targets:
  dev: {}
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Change-${tag} }
      afterDeployment:
        - runWebhook: { name: Smoke-${tag} }
webhooks:
${webhook(`Change-${tag}`, 'decision=none')}
${webhook(`Smoke-${tag}`, 'message=smoke+ok')}
`;
const callsTo = (path: string): number => w.h.external.webhooks.filter((c) => c.path === path).length;

/** The command lines of every process that mentions a private key (any local user can read them). */
async function commandLinesWithAKey(): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const line = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (line.includes('PRIVATE KEY')) found.push(`${entry}: ${line.slice(0, 80)}`);
  }
  return found;
}

describe('the relay’s GitHub App configuration', () => {
  it('takes the PKCS#1 key intact (its lines too), and never through a command line', async () => {
    const health = Health.parse(await (await fetch(`${w.h.relay.url}/healthz`)).json());
    expect(health).toMatchObject({ ok: true, githubApp: 'configured' });
    expect(await commandLinesWithAKey()).toEqual([]);
  });

  it('npm run relay passes on the relay variables of its environment, and no others', () => {
    const env = { RELAY_TOKEN: 't', GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: 'k\nk', OIDC_ISSUER: 'i', RESUME_RETRY_SECONDS: '9', PATH: '/bin', HOME: '/root' };
    expect(relayVariablesIn(env)).toEqual({ RELAY_TOKEN: 't', GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: 'k\nk', OIDC_ISSUER: 'i', RESUME_RETRY_SECONDS: '9' });
  });
});

describe('park and resume through GitHub', () => {
  it('a webhook answered after the job parked: one dispatch, the resumed job continues and never repeats', async () => {
    const ws = await w.h.workspace(webhookFile('1'));
    const { runner, deploymentId } = pushedRun();
    const first = await (await w.start(ws, runner)).done;
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(first.outputs.result).toBe('parked');
    expect(await processesIn(ws.dir)).toEqual([]);
    expect(reportOf(first).targets.map((t) => [t.target, t.outcome])).toEqual([
      ['dev', 'succeeded'],
      ['staging', 'parked'],
    ]);
    expect(first.summary).toContain(`hookgate-resume=${deploymentId}`);
    expect(await linesOf(ws, 'deploys')).toEqual(['dev']);
    expect(w.github.workflowDispatches.filter((d) => d.inputs[RESUME_INPUT] === deploymentId)).toEqual([]);

    const resumed = w.resumeOn(ws, deploymentId);
    const callback = await postCallback(callbackUriOf(w.h.external, '/hooks/Change-1'), { success: true, mdMessage: 'change approved' });
    expect(callback.status).toBe(200);
    const { dispatch, runner: next, runs } = await resumed;
    const [run] = runs;
    expect(dispatch).toMatchObject({ repository: 'acme/potato-facts', workflow: WORKFLOW_FILE, ref: 'main', returnRunDetails: true, inputs: { [RESUME_INPUT]: deploymentId } });
    expect(run?.exitCode, `${run?.stdout}\n${run?.stderr}`).toBe(0);
    expect(run?.outputs.result).toBe('succeeded');
    expect(run?.outputs['deployment-id']).toBe(deploymentId);

    // Every request the relay made was one GitHub accepts: App JWT, installation token, body.
    expect(w.github.refusals()).toEqual([]);
    const paths = w.github.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain('GET /repos/acme/potato-facts/installation');
    expect(paths).toContain('POST /repos/acme/potato-facts/actions/workflows/deploy.yml/dispatches');
    expect(w.github.workflowDispatches.filter((d) => d.inputs[RESUME_INPUT] === deploymentId)).toHaveLength(1);
    // Each webhook called once, each command run once, across both runs.
    expect([callsTo('/hooks/Change-1'), callsTo('/hooks/Smoke-1')]).toEqual([1, 1]);
    expect((await linesOf(ws, 'deploys')).sort()).toEqual(['dev', 'staging']);
    // The resumed run's report covers the whole deployment: dev from the first run, staging's every step.
    const report = reportOf(run!);
    expect(report.targets.map((t) => [t.target, t.outcome])).toEqual([
      ['dev', 'succeeded'],
      ['staging', 'succeeded'],
    ]);
    expect(report.targets[0]?.message).toContain(runner.runId);
    const staging = report.targets[1]?.steps.map((s) => [s.name, s.state]);
    expect(staging).toEqual([
      ['Change-1', 'succeeded'],
      ['deploy', 'succeeded'],
      ['Smoke-1', 'succeeded'],
    ]);
    expect(report.targets[1]?.steps[0]?.message).toContain('change approved');
    // The run view links the resumed run.
    const view = await w.runView(deploymentId);
    expect(view.dispatch).toMatchObject({ state: 'sent', runId: next.runId, runUrl: dispatch.htmlUrl });
    expect(view.parks.map((p) => p.state)).toEqual(['closed']);
    expect(secretFree(first) && secretFree(run!)).toBe(true);
  });

  it('an approval decided on the page while parked: the canary goes on from where it stopped', async () => {
    const ws = await w.h.workspace(`
${COUNTING_COMMANDS}
targets:
  prod:
    strategy: careful
strategies:
  careful:
    canary:
      steps:
        - setWeight: { weight: 50 }
        - pause: { untilApproved: true }
`);
    const { runner, deploymentId } = pushedRun();
    const action = await w.start(ws, runner);
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE))?.[1] ?? '';
    const first = await action.done;
    expect(first.outputs.result, first.stdout).toBe('parked');
    expect(first.summary).toContain(url);
    expect(await linesOf(ws, 'weights')).toEqual(['prod 50']);

    const resumed = w.resumeOn(ws, deploymentId);
    expect(await decideByForm(url, { decision: 'approve', approver: 'Mona', comment: 'go on' })).toBe(303);
    const { dispatch, runs } = await resumed;
    const [run] = runs;
    expect(run?.exitCode, `${run?.stdout}\n${run?.stderr}`).toBe(0);
    expect(run?.stdout).toContain('approved by Mona: go on');
    expect(await linesOf(ws, 'deploys')).toEqual(['prod']);
    expect(await linesOf(ws, 'weights')).toEqual(['prod 50', 'prod 100']);
    expect(reportOf(run!).targets[0]?.steps.map((s) => [s.kind, s.name, s.state])).toEqual([
      ['command', 'deploy', 'succeeded'],
      ['command', expect.stringContaining('setWeight'), 'succeeded'],
      ['approval', expect.any(String), 'succeeded'],
      ['command', expect.stringContaining('setWeight'), 'succeeded'],
    ]);
    // The approval page says where the deployment went on.
    await expect.poll(async () => (await fetch(url)).text()).toContain(dispatch.htmlUrl);
    expect(w.github.refusals()).toEqual([]);
  });

  it('a re-run of the parked run (attempt 2, no hookgate-resume) continues it instead of starting over', async () => {
    const ws = await w.h.workspace(webhookFile('3'));
    const { runner, deploymentId } = pushedRun();
    // Both attempts have the same inputs; 5 s leaves the re-run time to be seen claiming before it could park again.
    const inputs = { 'park-after': '5s' };
    const first = await (await w.start(ws, runner, inputs)).done;
    expect(first.outputs.result, first.stdout).toBe('parked');

    // Re-run while the gate is still pending: it claims the park, so no dispatch follows the decision.
    const rerun = await w.start(ws, rerunOf(runner), inputs);
    await expect.poll(async () => (await w.runView(deploymentId)).parks.map((p) => p.state), { timeout: 20_000, interval: 100 }).toEqual(['claimed']);
    expect((await postCallback(callbackUriOf(w.h.external, '/hooks/Change-3'), { success: true })).status).toBe(200);
    const run = await rerun.done;
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.outputs.result).toBe('succeeded');
    expect([callsTo('/hooks/Change-3'), callsTo('/hooks/Smoke-3')]).toEqual([1, 1]);
    expect((await linesOf(ws, 'deploys')).sort()).toEqual(['dev', 'staging']);
    expect(reportOf(run).targets.map((t) => t.outcome)).toEqual(['succeeded', 'succeeded']);
    expect(w.github.workflowDispatches.filter((d) => d.inputs[RESUME_INPUT] === deploymentId)).toEqual([]);
    expect((await w.runView(deploymentId)).dispatch?.state ?? 'none').not.toBe('sent');
  });
});

/**
 * A webhook's `monitor` (issue 13, "Polling"), end to end: the built action (`node dist/index.js`)
 * calls the stand-ins of Jenkins, Argo CD and GitHub's workflow runs, polls their status APIs every
 * 5 s from the runner, and posts its verdict to the gate at the real local relay, which ends the
 * wait like any callback. The deployment files are the README's examples.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ActionRun } from '../../scripts/run-action.ts';
import { checkBody } from '../support/github-api/openapi.ts';
import { startArgoCd } from '../support/status-apis/argocd.ts';
import type { ArgoCd } from '../support/status-apis/argocd.ts';
import { startGitHubRuns } from '../support/status-apis/github-runs.ts';
import type { GitHubRuns } from '../support/status-apis/github-runs.ts';
import { startJenkins } from '../support/status-apis/jenkins.ts';
import type { Jenkins } from '../support/status-apis/jenkins.ts';
import { COMMANDS, reportOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { postCallback } from './scripted-system.ts';

const JENKINS_TOKEN = '11d3a9c0ffee5ecre7jenkins';
const ARGOCD_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.argocd-session-never-print';
const GITHUB_TOKEN = 'ghp_monitorE2eTokenNeverPrint0123456789';
const SECRETS = { jenkins_auth: Buffer.from(`ci:${JENKINS_TOKEN}`).toString('base64'), argocd_token: ARGOCD_TOKEN, gh_token: GITHUB_TOKEN };

let h: Harness;
let jenkins: Jenkins;
let argo: ArgoCd;
let github: GitHubRuns;
beforeAll(async () => {
  h = await startHarness();
  jenkins = await startJenkins({ user: 'ci', apiToken: JENKINS_TOKEN });
  argo = await startArgoCd({ token: ARGOCD_TOKEN, apps: { 'potato-facts': 'Succeeded', 'broken-app': 'Failed' } });
  github = await startGitHubRuns({ token: GITHUB_TOKEN });
  // GitHub's OpenAPI description (70 MB) read now, not while an action waits on the first dispatch.
  checkBody('api.github.com', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', 'POST', { ref: 'main' });
});
afterAll(async () => {
  await Promise.all([jenkins?.close(), argo?.close(), github?.close()]);
  await h?.close();
});

/** One target, staging, whose afterDeployment runs the one webhook defined in `webhooks`. */
function file(application: string, name: string, webhooks: string): string {
  return `
application: ${application}
${COMMANDS}
targets:
  staging:
    constraints:
      afterDeployment:
        - runWebhook: { name: ${name} }
webhooks:
${webhooks
  .replaceAll('JENKINS', jenkins.url)
  .replaceAll('ARGOCD', argo.url)
  .replaceAll('GITHUB', github.url)}`;
}

/** Each test its own job: the stand-in moves a job's builds on at each read of its list, and the tests run at once. */
const jenkinsSmoke = (job: string, result: string, extraQuery = ''): string => `
  - name: Jenkins-Smoke
    method: POST
    uriTemplate: "JENKINS/job/${job}/buildWithParameters?ENVIRONMENT={{armory.environmentName}}&RESULT=${result}${extraQuery}"
    headers:
      - { key: Authorization, value: "Basic {{secrets.jenkins_auth}}" }
    timeout: { duration: 2, unit: minutes }
    monitor:
      uriTemplate: "JENKINS/job/${job}/api/json?tree=builds[number,queueId,result,building]"
      headers:
        - { key: Authorization, value: "Basic {{secrets.jenkins_auth}}" }
      interval: { duration: 5, unit: seconds }
      statusPath: "$.builds[?(@.queueId=={{response.locationId}})].result"
      success: [SUCCESS]
      failure: [FAILURE, ABORTED, UNSTABLE]
`;

const argoSync = `
  - name: ArgoCD-Sync
    method: POST
    uriTemplate: "ARGOCD/api/v1/applications/{{armory.applicationName}}/sync"
    headers:
      - { key: Authorization, value: "Bearer {{secrets.argocd_token}}" }
    bodyTemplate: { inline: '{"prune": true}' }
    timeout: { duration: 2, unit: minutes }
    monitor:
      uriTemplate: "ARGOCD/api/v1/applications/{{armory.applicationName}}"
      headers:
        - { key: Authorization, value: "Bearer {{secrets.argocd_token}}" }
      interval: { duration: 5, unit: seconds }
      statusPath: "$.status.operationState.phase"
      success: [Succeeded]
      failure: [Failed, Error]
`;

const githubHeaders = `
      - { key: Authorization, value: "Bearer {{secrets.gh_token}}" }
      - { key: Accept, value: application/vnd.github+json }
      - { key: X-GitHub-Api-Version, value: "2022-11-28" }`;
const githubSmoke = (outcome: string, api = 'GITHUB'): string => `
  - name: GitHub-Smoke
    method: POST
    uriTemplate: "${api}/repos/acme/smoke/actions/workflows/smoke.yml/dispatches"
    headers:${githubHeaders}
    bodyTemplate:
      inline: '{"ref": "main", "inputs": {"environment": "{{armory.environmentName}}", "outcome": "${outcome}"}, "return_run_details": true}'
    timeout: { duration: 2, unit: minutes }
    monitor:
      uriTemplate: "{{response.body.run_url}}"
      headers:${githubHeaders.replaceAll('\n      -', '\n        -')}
      interval: { duration: 5, unit: seconds }
      statusPath: "$.conclusion"
      success: [success]
      failure: [failure, cancelled, timed_out, action_required, startup_failure]
`;

async function run(deployYml: string): Promise<ActionRun> {
  const ws = await h.workspace(deployYml);
  return ws.run({ secrets: JSON.stringify(SECRETS) });
}

function monitorStep(result: ActionRun, name: string) {
  return reportOf(result).targets[0]?.steps.find((s) => s.kind === 'webhook' && s.name === name);
}

/** Nothing the action printed or wrote holds a token, nor a status URL's query or path past its host. */
function clean(result: ActionRun): boolean {
  const all = [result.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'), result.stderr, result.summary, JSON.stringify(result.outputs)].join('\n');
  return ![JENKINS_TOKEN, ARGOCD_TOKEN, GITHUB_TOKEN, SECRETS.jenkins_auth, 'api/json?tree', '/actions/runs/'].some((s) => all.includes(s));
}

describe.concurrent('monitor: polling systems that cannot call back', () => {
  it('Jenkins: queues a build, finds it by its queue item, passes on SUCCESS', async ({ expect }) => {
    const result = await run(file('potato-facts', 'Jenkins-Smoke', jenkinsSmoke('smoke-tests', 'SUCCESS')));
    expect(result.outputs.result, result.stdout).toBe('succeeded');
    const build = jenkins.builds.find((b) => b.job === 'smoke-tests' && b.queueId !== 3);
    expect(build).toMatchObject({ job: 'smoke-tests', result: 'SUCCESS', parameters: { ENVIRONMENT: 'staging' } });
    const host = new URL(jenkins.url).host;
    expect(monitorStep(result, 'Jenkins-Smoke')).toMatchObject({
      state: 'succeeded',
      message: `monitor: \`$.builds[?(@.queueId==${build?.queueId})].result\` is \`SUCCESS\` (GET ${host})`,
      outputs: { status: 'SUCCESS' },
    });
    expect(result.stdout).toContain('monitor Jenkins-Smoke: status null → SUCCESS');
    expect(clean(result), result.stdout).toBe(true);
  });

  it('Jenkins: a FAILURE build fails the gate and the target', async ({ expect }) => {
    const result = await run(file('potato-facts', 'Jenkins-Smoke', jenkinsSmoke('integration-tests', 'FAILURE')));
    expect(result.outputs.result, result.stdout).toBe('failed');
    expect(monitorStep(result, 'Jenkins-Smoke')).toMatchObject({ state: 'failed', message: expect.stringContaining('is `FAILURE`'), outputs: { status: 'FAILURE' } });
  });

  it('Jenkins: a callback that arrives first decides, and the monitor stops', async ({ expect }) => {
    // The build stays queued (HOLD) for the monitor; the job posts its own callback instead.
    const ws = await h.workspace(file('potato-facts', 'Jenkins-Smoke', jenkinsSmoke('load-tests', 'ABORTED', '&CALLBACK={{armory.callbackUri}}&HOLD=1')));
    const action = await ws.start({ secrets: JSON.stringify(SECRETS) });
    await action.waitForOutput(/monitor Jenkins-Smoke: polling/);
    const uri = jenkins.builds.find((b) => b.parameters.HOLD === '1')?.parameters.CALLBACK ?? '';
    expect(uri).toMatch(/^http/);
    expect((await postCallback(uri, { success: false, mdMessage: 'the job reported a broken database' })).status).toBe(200);
    const result = await action.done;
    expect(result.outputs.result, result.stdout).toBe('failed');
    expect(monitorStep(result, 'Jenkins-Smoke')).toMatchObject({ state: 'failed', message: 'the job reported a broken database' });
  });

  it('Argo CD: syncs the application and passes once the sync Succeeded', async ({ expect }) => {
    const result = await run(file('potato-facts', 'ArgoCD-Sync', argoSync));
    expect(result.outputs.result, result.stdout).toBe('succeeded');
    expect(argo.apps.get('potato-facts')?.syncs).toEqual([{ prune: true }]);
    expect(monitorStep(result, 'ArgoCD-Sync')).toMatchObject({ state: 'succeeded', outputs: { status: 'Succeeded' } });
    expect(result.stdout).toContain('monitor ArgoCD-Sync: status Running → Succeeded');
    expect(clean(result), result.stdout).toBe(true);
  });

  it('Argo CD: a Failed sync fails the gate', async ({ expect }) => {
    const result = await run(file('broken-app', 'ArgoCD-Sync', argoSync));
    expect(result.outputs.result, result.stdout).toBe('failed');
    expect(monitorStep(result, 'ArgoCD-Sync')).toMatchObject({ state: 'failed', outputs: { status: 'Failed' } });
  });

  it('GitHub: dispatches a workflow with return_run_details and follows its run to success', async ({ expect }) => {
    const result = await run(file('potato-facts', 'GitHub-Smoke', githubSmoke('success')));
    expect(result.outputs.result, result.stdout).toBe('succeeded');
    const dispatched = github.runs.find((r) => r.inputs.outcome === 'success');
    expect(dispatched).toMatchObject({ workflow: 'smoke.yml', ref: 'main', status: 'completed', inputs: { environment: 'staging' } });
    expect(github.requests.filter((r) => r.status >= 400)).toEqual([]);
    expect(monitorStep(result, 'GitHub-Smoke')).toMatchObject({ state: 'succeeded', outputs: { status: 'success' } });
    expect(clean(result), result.stdout).toBe(true);
  });

  it('GitHub: a cancelled run fails the gate', async ({ expect }) => {
    const result = await run(file('potato-facts', 'GitHub-Smoke', githubSmoke('cancelled')));
    expect(result.outputs.result, result.stdout).toBe('failed');
    expect(monitorStep(result, 'GitHub-Smoke')).toMatchObject({ state: 'failed', outputs: { status: 'cancelled' } });
  });

  it('GitHub: a run_url on another origin than the dispatch is not polled, its token never sent there', async ({ expect }) => {
    // Dispatched to localhost, the stand-in answers with a run_url on 127.0.0.1: another origin, chosen by the answer.
    const api = github.url.replace('127.0.0.1', 'localhost');
    const result = await run(file('potato-facts', 'GitHub-Smoke', githubSmoke('skipped', api)));
    expect(result.outputs.result, result.stdout).toBe('failed');
    expect(github.runs.filter((r) => r.inputs.outcome === 'skipped').map((r) => r.reads)).toEqual([0]);
    expect(monitorStep(result, 'GitHub-Smoke')).toMatchObject({
      state: 'failed',
      message: expect.stringMatching(/^monitor: the status URL's origin http:\/\/127\.0\.0\.1:\d+ comes from \{\{response\.body\.run_url\}\} and is neither the webhook call's \(http:\/\/localhost:\d+\) .* \(\S+:\d+:\d+\)$/),
    });
    expect(clean(result), result.stdout).toBe(true);
  });
});

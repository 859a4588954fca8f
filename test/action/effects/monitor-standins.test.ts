/**
 * The monitor over real HTTP against the status-API stand-ins (Jenkins, Argo CD, GitHub runs), in
 * virtual time: the webhook's call is rendered and sent as the action sends it, the monitor polls
 * with the global fetch, and its verdict is posted to a local callback server.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderWebhook } from '../../../action/clients/webhook.ts';
import { monitorGate } from '../../../action/effects/monitor.ts';
import { templateResolver } from '../../../action/effects/template-vars.ts';
import type { MonitorDef, WebhookDef } from '../../../action/plan/plan.ts';
import { startArgoCd } from '../../support/status-apis/argocd.ts';
import { checkBody } from '../../support/github-api/openapi.ts';
import { startGitHubRuns } from '../../support/status-apis/github-runs.ts';
import { startJenkins } from '../../support/status-apis/jenkins.ts';
import { gateFor, monitorDef } from '../../support/status-apis/monitor-rig.ts';
import { serve } from '../../support/status-apis/server.ts';
import type { StandIn } from '../../support/status-apis/server.ts';
import { target } from '../fakes.ts';
import { harness, webhookDef } from './harness.ts';

const TOKEN = 'api-token-0123456789';
const open: StandIn[] = [];
// GitHub's OpenAPI description is 70 MB of JSON: read once, before the tests, not inside one's time limit.
beforeAll(() => checkBody('api.github.com', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', 'POST', { ref: 'main' }), 60_000);
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function started<T extends StandIn>(server: Promise<T>): Promise<T> {
  const s = await server;
  open.push(s);
  return s;
}

/** Calls the webhook as the action does, runs its monitor to the end, and returns the verdicts posted. */
async function callAndMonitor(call: Partial<WebhookDef>, monitor: Partial<MonitorDef>, secrets: Record<string, string>): Promise<{ posts: unknown[]; story: string[] }> {
  const posts: unknown[] = [];
  const relay = await started(serve((request) => (posts.push(JSON.parse(request.body)), { status: 200, json: { state: 'succeeded' } })));
  const def = webhookDef('Check', { ...call, monitor: monitorDef(monitor) });
  const h = harness({ webhooks: [def], settings: { secrets } });
  delete h.ctx.fetch;
  const gate = { ...gateFor(h.clock.now() + 3_600_000), callbackUri: `${relay.url}/v1/callbacks/gate/token` };
  const resolve = templateResolver({
    deploymentId: 'octo/app/42', application: 'potato-facts', target: 'prod', callbackUri: gate.callbackUri, approvalUrl: '',
    github: h.ctx.settings.github, context: {}, secrets,
  });
  const request = renderWebhook(def, resolve);
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, redirect: 'follow' });
  const answer = { status: response.status, headers: response.headers, body: await response.text() };
  expect(response.ok, `${response.status} ${answer.body}`).toBe(true);
  await monitorGate({ ctx: h.ctx, target: target('prod'), def, resolve, answer, gate, signal: new AbortController().signal });
  return { posts, story: h.story() };
}

describe('the monitor against the status-API stand-ins', () => {
  it('Jenkins: finds its build by queue item and reads its result', async () => {
    const jenkins = await started(startJenkins({ user: 'ci', apiToken: TOKEN }));
    const auth = [{ key: 'Authorization', value: 'Basic {{secrets.jenkins_auth}}' }];
    const { posts, story } = await callAndMonitor(
      { method: 'POST', uriTemplate: `${jenkins.url}/job/smoke/buildWithParameters?RESULT=FAILURE`, headers: auth, bodyTemplate: null },
      { uriTemplate: `${jenkins.url}/job/smoke/api/json?tree=builds[number,queueId,result,building]`, headers: auth, statusPath: '$.builds[?(@.queueId=={{response.locationId}})].result', success: ['SUCCESS'], failure: ['FAILURE', 'ABORTED'] },
      { jenkins_auth: Buffer.from(`ci:${TOKEN}`).toString('base64') },
    );
    const host = new URL(jenkins.url).host;
    expect(posts).toEqual([{ success: false, mdMessage: `monitor: \`$.builds[?(@.queueId==17)].result\` is \`FAILURE\` (GET ${host})`, outputs: { status: 'FAILURE' } }]);
    expect(story.filter((line) => line.includes(': status '))).toEqual(['[prod] monitor Check: status (no match)', '[prod] monitor Check: status (no match) → null', '[prod] monitor Check: status null → FAILURE']);
  });

  it('Jenkins: a wrong API token fails the gate at the first poll, quoting Jenkins', async () => {
    const jenkins = await started(startJenkins({ user: 'ci', apiToken: TOKEN }));
    const good = [{ key: 'Authorization', value: `Basic ${Buffer.from(`ci:${TOKEN}`).toString('base64')}` }];
    const { posts } = await callAndMonitor(
      { method: 'POST', uriTemplate: `${jenkins.url}/job/smoke/buildWithParameters`, headers: good, bodyTemplate: null },
      { uriTemplate: `${jenkins.url}/job/smoke/api/json`, headers: [{ key: 'Authorization', value: 'Basic bm9wZTpub3Bl' }], statusPath: '$.builds[?(@.queueId=={{response.locationId}})].result' },
      {},
    );
    expect(posts).toEqual([{ success: false, mdMessage: `monitor: the status request GET ${new URL(jenkins.url).host} answered HTTP 401: \`<html><body>Invalid password/token for user: ci</body></html>\`` }]);
  });

  it('Argo CD: waits while the sync runs, passes when it succeeded', async () => {
    const argo = await started(startArgoCd({ token: TOKEN, apps: { 'potato-facts': 'Succeeded' } }));
    const auth = [{ key: 'Authorization', value: 'Bearer {{secrets.argocd_token}}' }];
    const { posts, story } = await callAndMonitor(
      { method: 'POST', uriTemplate: `${argo.url}/api/v1/applications/{{armory.applicationName}}/sync`, headers: auth, bodyTemplate: '{"prune": true}' },
      { uriTemplate: `${argo.url}/api/v1/applications/{{armory.applicationName}}`, headers: auth, statusPath: '$.status.operationState.phase', success: ['Succeeded'], failure: ['Failed', 'Error'] },
      { argocd_token: TOKEN },
    );
    expect(argo.apps.get('potato-facts')?.syncs).toEqual([{ prune: true }]);
    expect(posts).toEqual([expect.objectContaining({ success: true, outputs: { status: 'Succeeded' } })]);
    expect(story.filter((line) => line.includes(': status '))).toEqual(['[prod] monitor Check: status Running', '[prod] monitor Check: status Running → Succeeded']);
  });

  it('GitHub: dispatches with return_run_details, polls run_url, and fails on a cancelled run', async () => {
    const github = await started(startGitHubRuns({ token: TOKEN }));
    const headers = [
      { key: 'Authorization', value: 'Bearer {{secrets.gh_token}}' },
      { key: 'Accept', value: 'application/vnd.github+json' },
    ];
    const { posts } = await callAndMonitor(
      { method: 'POST', uriTemplate: `${github.url}/repos/acme/e2e/actions/workflows/smoke.yml/dispatches`, headers, bodyTemplate: '{"ref": "main", "inputs": {"outcome": "cancelled"}, "return_run_details": true}' },
      { uriTemplate: '{{response.body.run_url}}', headers, statusPath: '$.conclusion', success: ['success'], failure: ['failure', 'cancelled', 'timed_out'] },
      { gh_token: TOKEN },
    );
    expect(github.runs.map((r) => [r.workflow, r.status, r.reads])).toEqual([['smoke.yml', 'completed', 3]]);
    expect(posts).toEqual([expect.objectContaining({ success: false, outputs: { status: 'cancelled' } })]);
  });

  it('GitHub: the dispatch body is checked against GitHub’s schema', async () => {
    const github = await started(startGitHubRuns({ token: TOKEN }));
    const answer = await fetch(`${github.url}/repos/acme/e2e/actions/workflows/smoke.yml/dispatches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ref: 'main', return_run_details: true, callback: 'x' }),
    });
    expect(answer.status).toBe(422);
    expect(await answer.json()).toMatchObject({ message: 'Invalid request.\n\n"callback" is not a permitted key.' });
  });
});

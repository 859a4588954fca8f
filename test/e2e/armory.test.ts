/**
 * An Armory CD-as-a-Service file runs unchanged (SPEC §2): Kubernetes fields
 * noticed and ignored, both spellings, a canary with pauses, a blue/green, a prod
 * approval, and an afterDeployment webhook that triggers a GitHub
 * repository_dispatch whose workflow calls back with a bearer token. Only the
 * public hosts are swapped for local fakes, so no test calls the internet.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APPROVAL_LINE, decideByForm } from '../support/approval-form.ts';
import { startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub } from '../support/github-api.ts';
import { ROOT } from '../../scripts/local-relay.ts';
import { SECRET, reportOf, secretFree, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { Started } from './started.ts';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'armory', 'potato-facts.yml');
const GITHUB_TOKEN = 'ghs_fake-installation-token-for-tests';

let h: Harness;
let github: FakeGitHub;
const started = new Started();
beforeAll(async () => {
  h = await started.add(startHarness, (harness) => harness.close());
  github = await started.add(() => startFakeGitHub(GITHUB_TOKEN), (fake) => fake.close());
});
afterAll(() => started.stopAll());

describe('an Armory deployment file', () => {
  it('runs unchanged: dev → staging (canary, repository_dispatch tests) → prod (approval, blue/green)', async () => {
    const original = await readFile(FIXTURE, 'utf8');
    const ws = await h.workspace(
      original
        .replaceAll('https://api.github.com', github.url)
        .replaceAll('https://logs.example.com', 'EXTERNAL')
        .replaceAll('https://tickets.example.com', 'EXTERNAL'),
    );
    const action = await ws.start({ secrets: JSON.stringify({ github_token: GITHUB_TOKEN, logs_token: SECRET }) });
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE, 90_000))?.[1] ?? '';
    expect(await decideByForm(url, { decision: 'approve', approver: 'release-manager', comment: 'CAB approved' })).toBe(303);
    const run = await action.done;

    expect(run.exitCode, run.stdout).toBe(0);
    const report = reportOf(run);
    expect(report.application).toBe('potato-facts');
    expect(report.targets.map((t) => `${t.target}:${t.outcome}`)).toEqual(['dev:succeeded', 'staging:succeeded', 'prod:succeeded']);

    // Kubernetes-only fields and the role the file does not define: one notice each.
    for (const field of ['kind', 'deploymentConfig.timeout', 'manifests', 'trafficManagement', 'exposeServices']) {
      expect(run.stdout.match(new RegExp(`::notice::[^\\n]*\\b${field} is a Kubernetes field and is ignored`, 'g'))).toHaveLength(1);
    }
    expect(run.stdout).toMatch(/::notice::[^\n]*requiresRoles? names role release-managers, which is not defined under roles: it means the team release-managers of the repository owner's organization/);
    expect(run.stdout).toMatch(/::notice::[^\n]*networkMode is ignored/);

    // staging: the canary in order, with its pauses, and the weight ends at 100.
    const staging = report.targets[1]?.steps.map((s) => `${s.phase}:${s.kind}:${s.name}`);
    expect(staging).toEqual([
      'deploy:command:deploy',
      'strategy:command:setWeight 25%',
      'strategy:pause:1s',
      'strategy:webhook:Check Logs',
      'strategy:command:setWeight 50%',
      'strategy:pause:1s',
      'strategy:command:setWeight 100%',
      'afterDeployment:webhook:Run Integration Tests',
      'afterDeployment:pause:1s',
    ]);

    // The repository_dispatch: GitHub's token, the folded body verbatim, the workflow's bearer callback accepted.
    expect(github.dispatches).toHaveLength(1);
    const dispatch = github.dispatches[0];
    expect(dispatch).toMatchObject({ repository: 'acme/potato-facts', eventType: 'integration-tests', clientPayload: { suite: 'smoke', environment: 'staging' } });
    const callbackUri = String(dispatch?.clientPayload.callbackUri);
    expect(callbackUri).toMatch(new RegExp(`^${h.relay.url}/cb/[^/]+/callback$`));
    const [callback] = await github.waitForCallbacks(1);
    expect(callback).toMatchObject({ uri: callbackUri, status: 200, authorization: `Bearer ${GITHUB_TOKEN}` });
    expect(run.stdout).toContain('Callback for Run Integration Tests: success — workflow **smoke** passed');

    // prod: the approval and the change ticket in parallel, then blue/green in order.
    const prod = report.targets[2]?.steps.map((s) => `${s.phase}:${s.kind}:${s.name}:${s.state}`);
    expect(prod?.slice(0, 2).sort()).toEqual([
      'beforeDeployment:approval:manual approval:succeeded',
      'beforeDeployment:webhook:Open Change Ticket:succeeded',
    ]);
    expect(prod?.slice(2)).toEqual([
      'deploy:command:deploy:succeeded',
      'strategy:webhook:Check Logs:succeeded',
      'strategy:pause:1s:succeeded',
      'strategy:command:redirectTraffic:succeeded',
      'strategy:pause:1s:succeeded',
      'strategy:command:shutDownOldVersion:succeeded',
    ]);
    expect(run.stdout).toContain('approved by release-manager: CAB approved');
    const ticket = h.external.webhooks.find((w) => w.path === '/api/changes');
    expect(ticket?.method).toBe('PUT');
    expect(ticket?.query.severity).toBe('low');
    const logs = h.external.webhooks.filter((w) => w.path === '/hooks/check-logs');
    expect(logs.map((w) => w.query.env)).toEqual(['staging', 'prod']);
    // The target's account and namespace reach the webhook; replicaSetName is <application>-<commit>.
    expect(logs.map((w) => [w.query.cluster, w.query.ns])).toEqual([
      ['demo-staging-cluster', 'potato-facts-staging'],
      ['demo-prod-cluster', 'potato-facts-prod'],
    ]);
    expect(logs[0]?.query.rs).toMatch(/^potato-facts-\w{1,10}$/);
    expect(logs[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);

    // bodyTemplate.inline is sent verbatim after templating: the folded block keeps its newlines and odd indentation.
    const source = parse(await readFile(FIXTURE, 'utf8')) as { webhooks: { name: string; bodyTemplate: { inline: string } }[] };
    const template = source.webhooks.find((w) => w.name === 'Run Integration Tests')?.bodyTemplate.inline ?? '';
    expect(template).toContain('\n    "callbackUri"'); // the YAML's more-indented lines keep their breaks
    // What arrived is the template with its variables replaced, character for character.
    const expected = template
      .replace('{{armory.callbackUri}}', String(dispatch?.clientPayload.callbackUri).replace(/\/callback$/, ''))
      .replace('{{ context.suite }}', 'smoke')
      .replace('{{armory.environmentName}}', 'staging');
    expect(github.rawBodies[0]).toBe(expected);
    expect(secretFree(run)).toBe(true);
    // Only the runner's masking command may carry it; the runner consumes that line.
    expect(run.stdout.split('\n').filter((line) => line.includes(GITHUB_TOKEN))).toEqual([`::add-mask::${GITHUB_TOKEN}`]);
  });

  it('refuses analysis steps with a message that suggests a runWebhook, at file:line:col', async () => {
    const ws = await h.workspace(`
version: v1
targets:
  prod:
    strategy: with-analysis
strategies:
  with-analysis:
    canary:
      steps:
        - setWeight: { weight: 50 }
        - analysis:
            interval: 7
            units: seconds
            queries: [avgCPUUsage]
`);
    const run = await ws.run();
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/::error title=Invalid deployment file,file=deploy\.yml,line=11,col=11::[^\n]*analysis steps are not supported; call your analysis service with a runWebhook step instead/);
  });
});

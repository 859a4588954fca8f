/**
 * Armory's documented webhook-based approval (its "External Automation" guide): a GitHub
 * repository_dispatch carries `{{armory.callbackUri}}/callback` and the Kubernetes names
 * (`{{armory.replicaSetName}}`, `{{armory.namespace}}`), the dispatched workflow calls back with a
 * bearer token, and the deployment goes on or stops. The file is Armory's as written: only the
 * public host is swapped for a local fake of GitHub's API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_LINE, decideByForm } from '../support/approval-form.ts';
import { startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub } from '../support/github-api.ts';
import { reportOf, secretFree, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { Started } from './started.ts';

const GITHUB_TOKEN = 'ghs_fake-installation-token-for-approvals';
/** run-action.ts's GITHUB_SHA: replicaSetName is `<application>-<its first 10 characters>`. */
const REPLICA_SET = 'potato-facts-0123456789';

/** Armory's example shape; `prodScan` is the context the prod scan's workflow decides by. */
const armoryFile = (prodScan: 'success' | 'failure'): string => `
version: v1
kind: kubernetes
application: potato-facts
targets:
  staging:
    account: demo-staging-cluster
    namespace: potato-facts-staging
    strategy: rolling
    constraints:
      beforeDeployment:
        - runWebhook:
            name: Security-Scan
            context:
              decision: success
  prod:
    account: demo-prod-cluster
    namespace: potato-facts-prod
    strategy: rolling
    constraints:
      dependsOn: ["staging"]
      beforeDeployment:
        - pause:
            untilApproved: true
        - runWebhook:
            name: Security-Scan
            context:
              decision: ${prodScan}
manifests:
  - path: manifests/potato-facts.yml
strategies:
  rolling:
    canary:
      steps:
        - setWeight:
            weight: 100
webhooks:
  - name: Security-Scan
    method: POST
    uriTemplate: https://api.github.com/repos/armory/docs-cdaas-sample/dispatches
    networkMode: direct
    headers:
      - key: Authorization
        value: token {{secrets.github_token}}
      - key: Content-Type
        value: application/json
    bodyTemplate:
      inline: >-
        {
        "event_type": "webhookCallback",
        "client_payload": {
            "callbackUri": "{{armory.callbackUri}}/callback",
            "environment": "{{armory.environmentName}}",
            "namespace": "{{armory.namespace}}",
            "replicaSetName": "{{armory.replicaSetName}}",
            "decision": "{{context.decision}}"
            }
        }
    retryCount: 3
`;

let h: Harness;
let github: FakeGitHub;
const started = new Started();
beforeAll(async () => {
  h = await started.add(startHarness, (harness) => harness.close());
  github = await started.add(() => startFakeGitHub(GITHUB_TOKEN), (fake) => fake.close());
});
afterAll(() => started.stopAll());

const workspace = (prodScan: 'success' | 'failure') => h.workspace(armoryFile(prodScan).replaceAll('https://api.github.com', github.url));
const secrets = JSON.stringify({ github_token: GITHUB_TOKEN });

describe('Armory’s webhook-based approval example', () => {
  it('runs unchanged: each scan is dispatched with its callback and replicaSetName, its workflow’s bearer callback decides', async () => {
    const ws = await workspace('success');
    const action = await ws.start({ secrets });
    const url = APPROVAL_LINE.exec(await action.waitForOutput(APPROVAL_LINE, 90_000))?.[1] ?? '';
    expect(await decideByForm(url, { decision: 'approve', approver: 'release-manager' })).toBe(303);
    const run = await action.done;

    expect(run.exitCode, run.stdout).toBe(0);
    const report = reportOf(run);
    expect(report.targets.map((t) => `${t.target}:${t.outcome}`)).toEqual(['staging:succeeded', 'prod:succeeded']);
    const mine = github.dispatches.filter((d) => d.clientPayload.replicaSetName === REPLICA_SET);
    expect(mine.map((d) => [d.repository, d.eventType, d.clientPayload.environment, d.clientPayload.namespace])).toEqual([
      ['armory/docs-cdaas-sample', 'webhookCallback', 'staging', 'potato-facts-staging'],
      ['armory/docs-cdaas-sample', 'webhookCallback', 'prod', 'potato-facts-prod'],
    ]);
    const uris = mine.map((d) => String(d.clientPayload.callbackUri));
    for (const uri of uris) expect(uri).toMatch(new RegExp(`^${h.relay.url}/cb/[^/]+/callback$`));
    // The workflows' callbacks: a bearer token, as Armory's callbacks carry, accepted and ignored.
    const callbacks = await github.waitForCallbacks(github.dispatches.length);
    expect(callbacks.filter((c) => uris.includes(c.uri)).map((c) => [c.status, c.authorization])).toEqual([
      [200, `Bearer ${GITHUB_TOKEN}`],
      [200, `Bearer ${GITHUB_TOKEN}`],
    ]);
    expect(run.stdout).toContain('Callback for Security-Scan: success — workflow **tests** passed');
    for (const field of ['kind', 'manifests']) expect(run.stdout).toMatch(new RegExp(`::notice::[^\\n]*\\b${field} is a Kubernetes field and is ignored`));
    expect(secretFree(run)).toBe(true);
  });

  it('stops prod at the scan’s failure without waiting for its manual approval (Armory’s rule)', async () => {
    const ws = await workspace('failure');
    const run = await ws.run({ secrets });

    expect(run.exitCode).toBe(1);
    const report = reportOf(run);
    expect(report.targets.map((t) => `${t.target}:${t.outcome}`)).toEqual(['staging:succeeded', 'prod:failed']);
    const prod = report.targets[1]?.steps.map((s) => `${s.kind}:${s.name}:${s.state}`).sort();
    expect(prod).toEqual(['approval:manual approval:canceled', 'webhook:Security-Scan:failed']);
    expect(report.targets[1]?.steps.find((s) => s.kind === 'webhook')?.message).toBe('workflow **tests** failed');
    expect(run.stdout).toContain('Callback for Security-Scan: failure — workflow **tests** failed');
  });
});

import { describe, expect, it } from 'vitest';
import { formatFileError, loadDeploymentFile } from '../../../action/plan/load.ts';
import { noFiles, errorsOf, fixture } from './helpers.ts';

describe('whole files', () => {
  it('reports every error of a file at once, in file order', () => {
    const errors = errorsOf(`
      version: v2
      targets:
        prod:
          strategy: nope
          constraints:
            dependsOn: [staging]
            beforeDeployment:
              - runWebhook: { name: Missing }
      strategies:
        s: { canary: { steps: [{ setWeight: { weight: 250 } }] } }
      webhooks:
        - name: A
    `);
    expect(errors).toEqual([
      "deploy.yml:1:10: version: expected v1, got the string 'v2'",
      "deploy.yml:4:15: targets.prod.strategy: strategy 'nope' is used by target prod but not defined under strategies",
      "deploy.yml:6:19: targets.prod.constraints.dependsOn[0]: target 'staging' is not defined under targets",
      "deploy.yml:8:31: targets.prod.constraints.beforeDeployment[0].runWebhook.name: webhook 'Missing' is used by target prod but not defined under webhooks",
      'deploy.yml:10:49: strategies.s.canary.steps[0].setWeight.weight: must be at most 100, got the number 250',
      'deploy.yml:12:5: webhooks[0].uriTemplate: required field missing',
    ]);
  });

  it('finds the three undefined webhooks of the SPEC example', () => {
    const result = loadDeploymentFile({
      file: 'deploy.yml', text: fixture('spec-example.yml'), secretNames: new Set(['ci_token', 'slack_webhook']),
      inputContext: {}, defaultApplication: 'repo', readFile: noFiles,
    });
    expect(result.ok ? [] : result.errors.map(formatFileError)).toEqual([
      "deploy.yml:17:31: targets.staging.constraints.afterDeployment[0].runWebhook.name: webhook 'Run-Integration-Tests' is used by target staging but not defined under webhooks",
      "deploy.yml:25:31: targets.prod.constraints.beforeDeployment[1].runWebhook.name: webhook 'Change-Ticket' is used by target prod but not defined under webhooks",
      "deploy.yml:31:31: strategies.canary-with-checks.canary.steps[1].runWebhook.name: webhook 'System-Health' is used by strategy canary-with-checks but not defined under webhooks",
    ]);
  });

  it('runs a full Armory file unchanged', () => {
    const result = loadDeploymentFile({
      file: 'deploy.yml', text: fixture('armory-full.yml'), secretNames: new Set(['github_token', 'ci_token']),
      inputContext: { team: 'payments' }, defaultApplication: 'repo', readFile: noFiles,
    });
    if (!result.ok) throw new Error(result.errors.map(formatFileError).join('\n'));
    const plan = result.plan;
    expect(plan.application).toBe('potato-facts');
    expect(plan.targets.map((t) => [t.name, t.dependsOn])).toEqual([
      ['dev', []], ['staging', ['dev']], ['prod-west', ['staging']], ['prod-east', ['staging']],
    ]);
    const [dev, staging, west, east] = plan.targets;
    expect(dev?.strategy).toEqual({ kind: 'canary', name: 'rolling', steps: [{ kind: 'setWeight', weight: 100, location: { file: 'deploy.yml', line: 63, col: 11 } }] });
    expect(staging?.afterDeployment.map((g) => g.kind === 'pause' ? g.seconds : g.kind)).toEqual(['webhook', 600]);
    expect(west?.beforeDeployment[0]).toMatchObject({
      kind: 'approval', expirationSeconds: 4 * 3600, roles: ['release-managers'], approvers: [], ownerTeams: ['release-managers'], minimumApprovals: 1, preventSelfReview: false,
    });
    expect(west?.beforeDeployment[1]).toMatchObject({ kind: 'webhook', webhook: 'Open Change Ticket', context: { severity: 'low', window: '30' } });
    expect(west?.strategy).toMatchObject({
      kind: 'blueGreen',
      redirectTrafficAfter: [{ kind: 'webhook', webhook: 'Check Logs' }, { kind: 'pause', seconds: 120 }],
      shutDownOldVersionAfter: [{ kind: 'pause', seconds: 3600 }],
    });
    expect(east?.strategy?.kind === 'canary' && east.strategy.steps.map((s) => s.kind)).toEqual([
      'setWeight', 'webhook', 'pause', 'setWeight', 'approval', 'setWeight',
    ]);
    expect(Object.keys(plan.webhooks)).toEqual(['Check Logs', 'Run Integration Tests', 'Open Change Ticket']);
    expect(plan.webhooks['Check Logs']).toMatchObject({ method: 'POST', retryCount: 3 });
    expect(plan.webhooks['Check Logs']?.bodyTemplate).toBe(
      '{ "event_type": "checkLogs", "client_payload": {\n    "callbackUri": "{{armory.callbackUri}}/callback",\n    "environment": "{{ armory.environmentName }}"\n    }\n}',
    );
    expect(plan.webhooks['Run Integration Tests']).toMatchObject({ timeoutSeconds: 7200, method: 'POST' });
    expect(plan.webhooks['Open Change Ticket']).toMatchObject({ method: 'PUT', disableCallback: true });
    expect(plan.notices).toEqual([
      'kind is a Kubernetes field and is ignored (deploy.yml:2:1)',
      'deploymentConfig.timeout is a Kubernetes field and is ignored (deploy.yml:5:3)',
      "targets.prod-west.constraints.beforeDeployment[0].pause.requiresRoles names role release-managers, which is not defined under roles: it means the team release-managers of the repository owner's organization (deploy.yml:21:13)",
      'manifests is a Kubernetes field and is ignored (deploy.yml:55:1)',
      'strategies.canary-with-checks.canary.steps[1].exposeServices is a Kubernetes field and is ignored (deploy.yml:70:11)',
      'trafficManagement is a Kubernetes field and is ignored (deploy.yml:101:1)',
      'webhooks[0].networkMode is ignored: the runner itself is inside your network (deploy.yml:109:5)',
      'webhooks[1].agentIdentifier is ignored: the runner itself is inside your network (deploy.yml:128:5)',
    ]);
  });

  it('rejects the Armory file when a secret or context key it needs is missing', () => {
    const result = loadDeploymentFile({
      file: 'deploy.yml', text: fixture('armory-full.yml'), secretNames: new Set(['ci_token']),
      inputContext: {}, defaultApplication: 'repo', readFile: noFiles,
    });
    expect(result.ok ? [] : result.errors.map(formatFileError)).toEqual([
      "deploy.yml:34:11: targets.staging.constraints.afterDeployment[0].runWebhook: webhook 'Run Integration Tests' uses {{context.team}} in bodyTemplate.inline, but neither this step's context, the file's context nor the context input sets team",
      "deploy.yml:112:16: webhooks[0].headers[0].value: unknown template variable {{secrets.github_token}}: the secrets input has no 'github_token'",
    ]);
  });
});

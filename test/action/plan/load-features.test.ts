import { describe, expect, it } from 'vitest';
import { fixture, planOf } from './helpers.ts';

describe('a file with every hookgate field beyond Armory', () => {
  it('loads, with the monitors, heartbeat, overrides and queue in the plan', () => {
    const plan = planOf(fixture('hookgate-features.yml'));
    expect(plan.deploymentQueue).toBe('enqueueOne');
    expect(plan.targets.map((t) => [t.name, t.context])).toEqual([['staging', { region: 'us-east-1' }], ['prod', { region: 'eu-west-1' }]]);
    expect(plan.webhooks['Run-Tests']).toMatchObject({ heartbeatSeconds: 600, monitor: null, timeoutSeconds: 7200 });
    expect(plan.webhooks['Jenkins-Build']?.monitor).toEqual({
      method: 'GET',
      uriTemplate: 'https://jenkins.example.com/job/potato-facts/api/json?tree=builds[queueId,result]',
      headers: [{ key: 'Authorization', value: 'Basic {{secrets.ci_token}}' }],
      bodyTemplate: null,
      intervalSeconds: 15,
      statusPath: '$.builds[?(@.queueId=={{response.locationId}})].result',
      success: ['SUCCESS'],
      failure: ['FAILURE', 'ABORTED', 'UNSTABLE'],
      location: { file: 'deploy.yml', line: 47, col: 7 },
    });
    expect(plan.webhooks['Argo-Health']?.monitor).toMatchObject({ method: 'GET', intervalSeconds: 30, statusPath: '$.status.health.status', success: ['Healthy'], failure: ['Degraded', 'Missing'] });
    expect(plan.webhooks['GitHub-Smoke-Tests']?.monitor).toMatchObject({ method: 'GET', uriTemplate: '{{response.body.run_url}}', success: ['success'] });
    expect(plan.webhooks['Promote']).toMatchObject({ heartbeatSeconds: null, monitor: null });
    expect(plan.notices).toEqual(['deploymentConfig.timeout is a Kubernetes field and is ignored (deploy.yml:7:3)']);
  });
});

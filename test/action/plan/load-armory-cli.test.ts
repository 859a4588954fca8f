import { describe, expect, it } from 'vitest';
import { errorsOf, planOf } from './helpers.ts';

describe("Armory CLI's top-level fields", () => {
  it('loads an Armory file with targetFilters, files, contextOverrides and deploymentConfig, with one notice each where ignored', () => {
    const plan = planOf(`
      version: v1
      targetFilters:
        includeTargets: [prod]
      files:
        deploy.yml: ["manifests/app.yaml"]
      deploymentConfig:
        timeout: { unit: minutes, duration: 30 }
        keepDeploymentObject: true
        ifDeploymentInProgress: {}
      contextOverrides:
        prod: { region: eu, replicas: 3 }
        staging:
      targets:
        staging:
        prod:
    `);
    expect(plan.notices).toEqual([
      'targetFilters is ignored: hookgate deploys every target, or the one the target input names (deploy.yml:2:1)',
      "files is ignored: Armory's CLI fills it with the manifests it deploys, and hookgate deploys no manifests (deploy.yml:4:1)",
      'deploymentConfig.timeout is a Kubernetes field and is ignored (deploy.yml:7:3)',
      'deploymentConfig.keepDeploymentObject is a Kubernetes field and is ignored (deploy.yml:8:3)',
    ]);
    expect(plan.deploymentQueue).toBe('reject');
    expect(plan.targets.map((t) => t.context)).toEqual([undefined, { region: 'eu', replicas: '3' }]);
    expect(plan.context).toEqual({});
  });

  it('reads the queue strategy; without ifDeploymentInProgress there is no queue', () => {
    const queue = (config: string): unknown => planOf(`${config}\ntargets: { a: {} }\n`).deploymentQueue;
    expect(queue('deploymentConfig: { ifDeploymentInProgress: { strategy: enqueueOne } }')).toBe('enqueueOne');
    expect(queue('deploymentConfig: { ifDeploymentInProgress: { strategy: reject } }')).toBe('reject');
    expect(queue('deploymentConfig: { ifDeploymentInProgress: }')).toBe('reject');
    expect(queue('deploymentConfig: { ifDeploymentInProgress: { strategy: } }')).toBe('reject');
    expect(queue('deploymentConfig: { timeout: { unit: minutes, duration: 5 } }')).toBeNull();
    expect(queue('deploymentConfig:')).toBeNull();
    expect(queue('version: v1')).toBeNull();
  });

  it('rejects an unknown target, strategy or key and a bad value, each at its place', () => {
    expect(errorsOf(`
      contextOverrides:
        prd: { region: eu }
        staging: [a]
        prod: { region: [x] }
      deploymentConfig:
        ifDeploymentInProgress: { strategy: enqueue, mode: x }
        timeot: 3
      targets:
        staging:
        prod:
    `)).toEqual([
      "deploy.yml:2:3: contextOverrides.prd: target 'prd' is not defined under targets (did you mean 'prod'?)",
      'deploy.yml:3:12: contextOverrides.staging: expected a map, got a list',
      'deploy.yml:4:19: contextOverrides.prod.region: expected a string, number or true/false, got a list',
      "deploy.yml:6:39: deploymentConfig.ifDeploymentInProgress.strategy: unknown strategy 'enqueue'; use reject (a new deployment fails while one is in progress) or enqueueOne (one waits its turn) (did you mean 'enqueueOne'?)",
      "deploy.yml:6:48: deploymentConfig.ifDeploymentInProgress.mode: unknown field 'mode'",
      "deploy.yml:7:3: deploymentConfig.timeot: unknown field 'timeot' (did you mean 'timeout'?)",
    ]);
    expect(errorsOf('contextOverrides: [x]\ndeploymentConfig: 3\ntargets: { a: {} }\n')).toEqual([
      'deploy.yml:1:19: contextOverrides: expected a map of target names to context values, got a list',
      'deploy.yml:2:19: deploymentConfig: expected a map, got the number 3',
    ]);
  });

  it("counts a target's overrides in the context-key check of each of its steps, strategy steps per target", () => {
    expect(errorsOf(`
      contextOverrides:
        staging: { region: us }
        prod: { region: eu }
      targets:
        staging:
          strategy: s
          constraints:
            beforeDeployment:
              - runWebhook: { name: A }
        prod:
          strategy: s
        dev:
          strategy: s
        qa:
          constraints:
            afterDeployment:
              - runWebhook: { name: A, context: { region: x } }
              - runWebhook: { name: A }
      strategies:
        s: { canary: { steps: [{ runWebhook: { name: A } }] } }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com/{{context.region}}/{{context.zone}}
    `)).toEqual([
      "deploy.yml:9:11: targets.staging.constraints.beforeDeployment[0].runWebhook: webhook 'A' uses {{context.zone}} in uriTemplate, but neither this step's context, the file's context, contextOverrides nor the context input sets zone",
      "deploy.yml:17:11: targets.qa.constraints.afterDeployment[0].runWebhook: webhook 'A' uses {{context.zone}} in uriTemplate, but neither this step's context, the file's context nor the context input sets zone",
      "deploy.yml:18:11: targets.qa.constraints.afterDeployment[1].runWebhook: webhook 'A' uses {{context.region}} in uriTemplate, but neither this step's context, the file's context nor the context input sets region",
      "deploy.yml:18:11: targets.qa.constraints.afterDeployment[1].runWebhook: webhook 'A' uses {{context.zone}} in uriTemplate, but neither this step's context, the file's context nor the context input sets zone",
      "deploy.yml:20:28: strategies.s.canary.steps[0].runWebhook: webhook 'A' uses {{context.region}} in uriTemplate, but for target dev neither this step's context, the file's context, contextOverrides.dev nor the context input sets region (contextOverrides sets it for staging and prod only)",
      "deploy.yml:20:28: strategies.s.canary.steps[0].runWebhook: webhook 'A' uses {{context.zone}} in uriTemplate, but neither this step's context, the file's context, contextOverrides nor the context input sets zone",
    ]);
  });

  it('accepts a key that every target of a strategy sets through contextOverrides', () => {
    const plan = planOf(`
      contextOverrides:
        staging: { region: us }
        prod: { region: eu }
      targets:
        staging: { strategy: s }
        prod: { strategy: s }
      strategies:
        s: { canary: { steps: [{ runWebhook: { name: A } }] } }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com/{{context.region}}
    `);
    expect(plan.targets.map((t) => [t.name, t.context?.['region']])).toEqual([['staging', 'us'], ['prod', 'eu']]);
  });
});

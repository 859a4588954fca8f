import { describe, expect, it } from 'vitest';
import { FILE, planOf, errorsOf } from './helpers.ts';

describe('top level', () => {
  it('accepts a minimal file and fills in the defaults', () => {
    const plan = planOf(`
      targets:
        staging:
    `);
    expect(plan).toEqual({
      file: FILE,
      application: 'my-repo',
      context: {},
      targets: [
        { name: 'staging', dependsOn: [], commands: {}, beforeDeployment: [], strategy: null, afterDeployment: [] },
      ],
      webhooks: {},
      notices: [],
      deploymentQueue: null,
    });
  });

  it('accepts version v1 and rejects any other', () => {
    expect(planOf('version: v1\ntargets: {a: {}}\n').targets).toHaveLength(1);
    expect(errorsOf('version: v2\ntargets: {a: {}}\n')).toEqual(["deploy.yml:1:10: version: expected v1, got the string 'v2'"]);
    expect(errorsOf('version: 1\ntargets: {a: {}}\n')).toEqual(['deploy.yml:1:10: version: expected v1, got the number 1']);
  });

  it('takes application from the file, else from the default', () => {
    expect(planOf('application: potato-facts\ntargets: {a: {}}\n').application).toBe('potato-facts');
    expect(errorsOf('application: [x]\ntargets: {a: {}}\n')).toEqual(['deploy.yml:1:14: application: expected a string, got a list']);
    expect(errorsOf("application: ''\ntargets: {a: {}}\n")).toEqual(['deploy.yml:1:14: application: must not be empty']);
  });

  it('turns context scalars into strings, over the context input', () => {
    const plan = planOf(`
      context: { team: payments, port: 8080, canary: true }
      targets: {a: {}}
    `, { inputContext: { team: 'input-team', region: 'eu' } });
    expect(plan.context).toEqual({ team: 'payments', port: '8080', canary: 'true', region: 'eu' });
  });

  it('rejects a context value that is not a scalar', () => {
    expect(errorsOf(`
      context:
        team: payments
        owners: [a, b]
        empty:
      targets: {a: {}}
    `)).toEqual([
      'deploy.yml:3:11: context.owners: expected a string, number or true/false, got a list',
      'deploy.yml:4:3: context.empty: expected a string, number or true/false, got nothing',
    ]);
    expect(errorsOf('context: [a]\ntargets: {a: {}}\n')).toEqual(['deploy.yml:1:10: context: expected a map, got a list']);
  });

  it('rejects an unknown field, suggesting the likely one', () => {
    expect(errorsOf(`
      targets: {a: {}}
      webhook: []
      colour: red
    `)).toEqual([
      "deploy.yml:2:1: webhook: unknown field 'webhook' (did you mean 'webhooks'?)",
      "deploy.yml:3:1: colour: unknown field 'colour'",
    ]);
  });

  it('accepts Kubernetes fields with one notice per field name', () => {
    const plan = planOf(`
      version: v1
      kind: kubernetes
      manifests:
        - path: a.yaml
      targets:
        staging:
          account: c1
          namespace: ns1
        prod:
          account: c2
          namespace: ns2
          kind: other
          trafficManagement: {}
          deploymentConfig: {}
      trafficManagement: [{ smi: [] }]
    `);
    expect(plan.notices).toEqual([
      'kind is a Kubernetes field and is ignored (deploy.yml:2:1)',
      'manifests is a Kubernetes field and is ignored (deploy.yml:3:1)',
      'targets.prod.trafficManagement is a Kubernetes field and is ignored (deploy.yml:13:5)',
      'targets.prod.deploymentConfig is a Kubernetes field and is ignored (deploy.yml:14:5)',
    ]);
    // A target's account and namespace are kept for {{armory.accountName}} and {{armory.namespace}}.
    expect(plan.targets.map((t) => [t.name, t.account, t.namespace])).toEqual([
      ['staging', 'c1', 'ns1'],
      ['prod', 'c2', 'ns2'],
    ]);
  });

  it('explains that a top-level analysis section is not supported', () => {
    expect(errorsOf('targets: {a: {}}\nanalysis: { queries: [] }\n')).toEqual([
      'deploy.yml:2:1: analysis: analysis steps are not supported; call your analysis service with a runWebhook step instead',
    ]);
  });

  it('merges target commands over the top-level commands', () => {
    const plan = planOf(`
      commands:
        deploy: ./deploy.sh
        setWeight: ./weight.sh
        rollback: ./rollback.sh
      targets:
        staging: {}
        prod:
          commands: { deploy: ./deploy.sh --prod, redirectTraffic: ./switch.sh }
    `);
    expect(plan.targets[0]?.commands).toEqual({ deploy: './deploy.sh', setWeight: './weight.sh', rollback: './rollback.sh' });
    expect(plan.targets[1]?.commands).toEqual({
      deploy: './deploy.sh --prod', setWeight: './weight.sh', rollback: './rollback.sh', redirectTraffic: './switch.sh',
    });
  });

  it('rejects unknown, empty and non-string commands', () => {
    expect(errorsOf(`
      commands:
        deploy: 42
        shutdownOldVersion: x
      targets:
        a:
          commands: { rollback: '  ' }
    `)).toEqual([
      'deploy.yml:2:11: commands.deploy: expected a string, got the number 42',
      "deploy.yml:3:3: commands.shutdownOldVersion: unknown field 'shutdownOldVersion' (did you mean 'shutDownOldVersion'?)",
      'deploy.yml:6:27: targets.a.commands.rollback: must not be empty; leave the command out to skip it',
    ]);
  });
});

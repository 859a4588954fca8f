import { describe, expect, it } from 'vitest';
import { planOf, errorsOf } from './helpers.ts';

describe('targets', () => {
  it('requires a map with at least one target', () => {
    expect(errorsOf('application: x\n')).toEqual(['deploy.yml:1:1: targets: required field missing: a map of targets (environments) such as staging and prod']);
    expect(errorsOf('targets: {}\n')).toEqual(['deploy.yml:1:10: targets: needs at least one target']);
    expect(errorsOf('targets: [a, b]\n')).toEqual(['deploy.yml:1:10: targets: expected a map of target names to targets, got a list']);
  });

  it('rejects an unknown target field at its key', () => {
    expect(errorsOf(`
      targets:
        prod:
          strategy: s
          constraint: {}
      strategies: { s: { canary: { steps: [] } } }
    `)).toEqual(["deploy.yml:4:5: targets.prod.constraint: unknown field 'constraint' (did you mean 'constraints'?)"]);
  });

  it('rejects a target that is not a map', () => {
    expect(errorsOf('targets:\n  prod: yes please\n')).toEqual(["deploy.yml:2:9: targets.prod: expected a map, got the string 'yes please'"]);
  });

  it('reports one problem per field, not a type error and a range error', () => {
    expect(errorsOf(`
      targets:
        a: { strategy: [] }
      strategies:
        s: { canary: { steps: [{ setWeight: { weight: 1e400 } }] } }
    `)).toEqual([
      'deploy.yml:2:18: targets.a.strategy: expected a string, got a list',
      'deploy.yml:4:49: strategies.s.canary.steps[0].setWeight.weight: expected a finite number, got the number Infinity',
    ]);
  });

  it('rejects an undefined strategy', () => {
    expect(errorsOf(`
      targets:
        prod:
          strategy: canary-wit-checks
      strategies:
        canary-with-checks: { canary: { steps: [] } }
    `)).toEqual([
      "deploy.yml:3:15: targets.prod.strategy: strategy 'canary-wit-checks' is used by target prod but not defined under strategies (did you mean 'canary-with-checks'?)",
    ]);
  });

  it('rejects unknown constraint fields', () => {
    expect(errorsOf(`
      targets:
        prod:
          constraints:
            dependOn: [staging]
    `)).toEqual(["deploy.yml:4:7: targets.prod.constraints.dependOn: unknown field 'dependOn' (did you mean 'dependsOn'?)"]);
  });
});

describe('dependsOn', () => {
  it('orders targets by their dependencies, keeping file order among equals', () => {
    const plan = planOf(`
      targets:
        prod-west: { constraints: { dependsOn: [staging] } }
        prod-east: { constraints: { dependsOn: [staging, qa] } }
        staging: { constraints: { dependsOn: [dev] } }
        qa:
        dev:
        docs:
    `);
    expect(plan.targets.map((t) => t.name)).toEqual(['qa', 'dev', 'staging', 'prod-west', 'prod-east', 'docs']);
    expect(plan.targets.find((t) => t.name === 'prod-east')?.dependsOn).toEqual(['staging', 'qa']);
  });

  it('orders a long chain written backwards', { timeout: 20_000 }, () => {
    const count = 2000;
    const lines = Array.from({ length: count }, (_, i) => `  t${i}: { constraints: { dependsOn: [t${i + 1}] } }`);
    const plan = planOf(`targets:\n${lines.join('\n')}\n  t${count}: {}\n`);
    expect(plan.targets.map((t) => t.name)).toEqual(Array.from({ length: count + 1 }, (_, i) => `t${count - i}`));
  });

  it('accepts a single name and drops repeats', () => {
    const plan = planOf(`
      targets:
        staging:
        prod: { constraints: { dependsOn: staging } }
        qa: { constraints: { dependsOn: [staging, staging] } }
    `);
    expect(plan.targets.map((t) => [t.name, t.dependsOn])).toEqual([['staging', []], ['prod', ['staging']], ['qa', ['staging']]]);
  });

  it('rejects a target that does not exist, at the list item', () => {
    expect(errorsOf(`
      targets:
        staging: {}
        prod:
          constraints:
            dependsOn:
              - stagin
    `)).toEqual([
      "deploy.yml:6:11: targets.prod.constraints.dependsOn[0]: target 'stagin' is not defined under targets (did you mean 'staging'?)",
    ]);
  });

  it('rejects a self-dependency', () => {
    expect(errorsOf(`
      targets:
        prod: { constraints: { dependsOn: [prod] } }
    `)).toEqual(['deploy.yml:2:38: targets.prod.constraints.dependsOn[0]: target prod cannot depend on itself']);
  });

  it('rejects a cycle and names it', () => {
    expect(errorsOf(`
      targets:
        a: { constraints: { dependsOn: [c] } }
        b: { constraints: { dependsOn: [a] } }
        c: { constraints: { dependsOn: [b] } }
        d: { constraints: { dependsOn: [c] } }
    `)).toEqual(['deploy.yml:2:35: targets.a.constraints.dependsOn[0]: dependsOn forms a cycle: a → c → b → a']);
  });

  it('reports separate cycles separately', () => {
    const errors = errorsOf(`
      targets:
        a: { constraints: { dependsOn: [b] } }
        b: { constraints: { dependsOn: [a] } }
        c: { constraints: { dependsOn: [d] } }
        d: { constraints: { dependsOn: [c] } }
    `);
    expect(errors).toEqual([
      'deploy.yml:2:35: targets.a.constraints.dependsOn[0]: dependsOn forms a cycle: a → b → a',
      'deploy.yml:4:35: targets.c.constraints.dependsOn[0]: dependsOn forms a cycle: c → d → c',
    ]);
  });

  it('rejects a dependsOn that is not a list of names', () => {
    expect(errorsOf(`
      targets:
        a: { constraints: { dependsOn: [{ b: 1 }] } }
    `)).toEqual(['deploy.yml:2:35: targets.a.constraints.dependsOn[0]: expected a string, got a map']);
  });
});

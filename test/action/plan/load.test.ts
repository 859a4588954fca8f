import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { formatFileError, loadDeploymentFile } from '../../../action/plan/load.ts';
import type { LoadOptions, LoadResult } from '../../../action/plan/load.ts';
import type { Plan } from '../../../action/plan/plan.ts';

const FILE = 'deploy.yml';
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');

/** Strips the indentation shared by all lines, so YAML can be written inline and line 1 is its first line. */
function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n[ \t]*$/, '\n').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length);
  const indent = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(indent)).join('\n');
}

function load(text: string, options: Partial<LoadOptions> = {}): LoadResult {
  return loadDeploymentFile({
    file: FILE,
    text: dedent(text),
    secretNames: new Set(['ci_token']),
    inputContext: {},
    defaultApplication: 'my-repo',
    readFile: (path) => {
      throw new Error(`ENOENT: no such file '${path}'`);
    },
    ...options,
  });
}

function planOf(text: string, options: Partial<LoadOptions> = {}): Plan {
  const result = load(text, options);
  if (!result.ok) throw new Error(`expected a plan, got:\n${result.errors.map(formatFileError).join('\n')}`);
  return result.plan;
}

function errorsOf(text: string, options: Partial<LoadOptions> = {}): string[] {
  const result = load(text, options);
  if (result.ok) throw new Error('expected errors, got a plan');
  return result.errors.map(formatFileError);
}

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

const loc = (line: number, col: number) => ({ file: FILE, line, col });

describe('formatFileError', () => {
  it('prints file, line, column, field path and message', () => {
    const text = formatFileError({
      file: 'deploy.yml', line: 14, col: 9, path: 'targets.prod.constraints.dependsOn[0]',
      message: "target 'stagin' is not defined under targets",
    });
    expect(text).toBe("deploy.yml:14:9: targets.prod.constraints.dependsOn[0]: target 'stagin' is not defined under targets");
  });

  it('leaves out an empty path', () => {
    expect(formatFileError({ file: 'a.yml', line: 1, col: 1, path: '', message: 'm' })).toBe('a.yml:1:1: m');
  });
});

describe('YAML itself', () => {
  it('reports a syntax error with its line and column', () => {
    expect(errorsOf(`
      targets:
        staging:
          strategy: a
         prod: {}
    `)).toEqual(['deploy.yml:4:1: YAML syntax error: All mapping items must start at the same column']);
  });

  it('reports every syntax error at once', () => {
    const errors = errorsOf(`
      targets:
        a: {b: 1
      x: [1, 2
    `);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.every((e) => e.startsWith('deploy.yml:') && e.includes('YAML syntax error'))).toBe(true);
  });

  it('rejects a duplicate key', () => {
    expect(errorsOf(`
      targets:
        staging: {}
        staging: {}
    `)).toEqual(['deploy.yml:3:3: YAML syntax error: Map keys must be unique']);
  });

  it('rejects more than one document', () => {
    expect(errorsOf(`
      targets: {a: {}}
      ---
      targets: {b: {}}
    `)).toEqual(['deploy.yml:2:1: the file holds more than one YAML document (a --- line); put everything in one']);
  });

  it('rejects an empty file and a file of comments', () => {
    expect(errorsOf('')).toEqual(['deploy.yml:1:1: the file is empty; it needs at least a targets map']);
    expect(errorsOf('# nothing yet\n')).toEqual(['deploy.yml:1:1: the file is empty; it needs at least a targets map']);
  });

  it('rejects a top level that is not a map', () => {
    expect(errorsOf('- a\n- b\n')).toEqual(['deploy.yml:1:1: expected a map, got a list']);
    expect(errorsOf('just text\n')).toEqual(["deploy.yml:1:1: expected a map, got the string 'just text'"]);
  });

  it('rejects a key that is a list or a map', () => {
    expect(errorsOf(`
      targets:
        ? [a, b]
        : {}
    `)).toEqual(['deploy.yml:2:5: a key must be a plain name, not a list or a map']);
  });

  it('reports an alias without an anchor at the alias', () => {
    expect(errorsOf(`
      targets:
        staging: *nowhere
    `)).toEqual(['deploy.yml:2:12: alias *nowhere has no anchor &nowhere before it']);
  });

  it('stops an alias bomb with an error instead of expanding it', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const errors = errorsOf(`${levels.join('\n')}\ntargets: {a: {}}\n`);
    expect(errors).toEqual([expect.stringMatching(/^deploy\.yml:1:1: cannot read the YAML: Excessive alias count/)]);
  });

  it('follows anchors, aliases and merge keys', () => {
    const plan = planOf(`
      targets:
        staging:
          constraints: &gates
            beforeDeployment:
              - pause: { duration: 1, unit: seconds }
        prod:
          <<: { strategy: s }
          constraints:
            dependsOn: [staging]
            beforeDeployment: *steps
      strategies:
        s:
          canary:
            steps: &steps
              - pause: { duration: 2, unit: seconds }
    `.replace('*steps', '[]'));
    expect(plan.targets.map((t) => t.name)).toEqual(['staging', 'prod']);
    expect(plan.targets[1]?.strategy?.name).toBe('s');
    expect(plan.targets[0]?.beforeDeployment).toEqual([{ kind: 'pause', seconds: 1, location: loc(5, 11) }]);
  });

  it('reports an error inside an aliased node at the anchored node', () => {
    expect(errorsOf(`
      strategies:
        s:
          canary:
            steps: &steps
              - setWeight: { weight: 200 }
      targets:
        a:
          strategy: s
          constraints:
            beforeDeployment: *steps
    `)).toEqual([
      // Both uses of the anchored list point at the list itself.
      "deploy.yml:5:11: targets.a.constraints.beforeDeployment[0].setWeight: setWeight steps belong in a canary strategy's steps",
      'deploy.yml:5:32: strategies.s.canary.steps[0].setWeight.weight: must be at most 100, got the number 200',
    ]);
  });
});

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
      'targets.staging.account is a Kubernetes field and is ignored (deploy.yml:7:5)',
      'targets.staging.namespace is a Kubernetes field and is ignored (deploy.yml:8:5)',
      'targets.prod.trafficManagement is a Kubernetes field and is ignored (deploy.yml:13:5)',
      'targets.prod.deploymentConfig is a Kubernetes field and is ignored (deploy.yml:14:5)',
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

const WEBHOOK = `
webhooks:
  - name: Run-Tests
    uriTemplate: https://ci.example.com/run
`;
const withWebhook = (text: string) => dedent(text) + WEBHOOK;

describe('constraints', () => {
  it('reads runWebhook and both pause forms, in order', () => {
    const plan = planOf(withWebhook(`
      targets:
        staging:
          constraints:
            beforeDeployment:
              - runWebhook: { name: Run-Tests, context: { suite: smoke, shards: 4 } }
              - pause: { duration: 2, unit: Minutes }
              - pause: { duration: 1, units: HOURS }
            afterDeployment:
              - pause:
                  untilApproved: true
                  approvalExpiration: { duration: 90, unit: seconds }
                  requiresRoles: [release, sre]
              - pause: { untilApproved: true, requiresRole: admin }
              - pause: { untilApproved: true }
    `));
    const target = plan.targets[0];
    expect(target?.beforeDeployment).toEqual([
      { kind: 'webhook', webhook: 'Run-Tests', context: { suite: 'smoke', shards: '4' }, location: loc(5, 11) },
      { kind: 'pause', seconds: 120, location: loc(6, 11) },
      { kind: 'pause', seconds: 3600, location: loc(7, 11) },
    ]);
    expect(target?.afterDeployment).toEqual([
      { kind: 'approval', expirationSeconds: 90, roles: ['release', 'sre'], location: loc(9, 11) },
      { kind: 'approval', expirationSeconds: null, roles: ['admin'], location: loc(13, 11) },
      { kind: 'approval', expirationSeconds: null, roles: [], location: loc(14, 11) },
    ]);
  });

  it('accepts empty constraint lists', () => {
    const plan = planOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
            afterDeployment: []
    `);
    expect(plan.targets[0]?.beforeDeployment).toEqual([]);
  });

  it('rejects a webhook that is not defined, at its name', () => {
    expect(errorsOf(withWebhook(`
      targets:
        staging:
          constraints:
            afterDeployment:
              - runWebhook:
                  name: Run-Test
    `))).toEqual([
      "deploy.yml:6:19: targets.staging.constraints.afterDeployment[0].runWebhook.name: webhook 'Run-Test' is used by target staging but not defined under webhooks (did you mean 'Run-Tests'?)",
    ]);
  });

  it('uses the message of the style guide for a missing webhook', () => {
    const errors = errorsOf(`
      targets:
        staging:
          constraints:
            beforeDeployment: [{ runWebhook: { name: Run-Tests } }]
    `);
    expect(errors).toEqual([
      "deploy.yml:4:48: targets.staging.constraints.beforeDeployment[0].runWebhook.name: webhook 'Run-Tests' is used by target staging but not defined under webhooks",
    ]);
  });

  it('rejects a runWebhook without a name, with unknown fields or a nested context', () => {
    expect(errorsOf(withWebhook(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - runWebhook: { context: { a: 1 } }
              - runWebhook: { name: Run-Tests, contxt: {} }
              - runWebhook: { name: Run-Tests, context: { a: { b: 1 } } }
    `))).toEqual([
      'deploy.yml:5:23: targets.a.constraints.beforeDeployment[0].runWebhook.name: required field missing',
      "deploy.yml:6:42: targets.a.constraints.beforeDeployment[1].runWebhook.contxt: unknown field 'contxt' (did you mean 'context'?)",
      'deploy.yml:7:56: targets.a.constraints.beforeDeployment[2].runWebhook.context.a: expected a string, number or true/false, got a map',
    ]);
  });

  it('rejects a pause with both forms, with neither, and untilApproved: false', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { untilApproved: true, duration: 5, unit: seconds }
              - pause: {}
              - pause: { untilApproved: false }
              - pause:
    `)).toEqual([
      'deploy.yml:5:18: targets.a.constraints.beforeDeployment[0].pause: a pause is either {duration, unit} or {untilApproved: true}, not both',
      'deploy.yml:6:18: targets.a.constraints.beforeDeployment[1].pause: a pause needs duration and unit, or untilApproved: true',
      'deploy.yml:7:35: targets.a.constraints.beforeDeployment[2].pause.untilApproved: must be true; for a timed pause give duration and unit instead',
      'deploy.yml:8:11: targets.a.constraints.beforeDeployment[3].pause: expected a map, got nothing',
    ]);
  });

  it('rejects bad durations and units', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { duration: 5 }
              - pause: { duration: 5, unit: days }
              - pause: { duration: 5, unit: seconds, units: seconds }
              - pause: { duration: -1, unit: seconds }
              - pause: { duration: five, unit: seconds }
    `)).toEqual([
      'deploy.yml:5:18: targets.a.constraints.beforeDeployment[0].pause.unit: required field missing (seconds, minutes or hours)',
      "deploy.yml:6:39: targets.a.constraints.beforeDeployment[1].pause.unit: unknown unit 'days'; use seconds, minutes or hours",
      'deploy.yml:7:55: targets.a.constraints.beforeDeployment[2].pause.units: give either unit or units, not both',
      'deploy.yml:8:30: targets.a.constraints.beforeDeployment[3].pause.duration: must be at least 0, got the number -1',
      "deploy.yml:9:30: targets.a.constraints.beforeDeployment[4].pause.duration: expected a number, got the string 'five'",
    ]);
  });

  it('rejects approval options on a timed pause and bad expirations', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - pause: { duration: 5, unit: seconds, requiresRoles: [x] }
              - pause: { untilApproved: true, approvalExpiration: { duration: 0, unit: hours } }
              - pause: { untilApproved: true, requiresRoles: [a], requiresRole: b }
    `)).toEqual([
      'deploy.yml:5:48: targets.a.constraints.beforeDeployment[0].pause.requiresRoles: only applies to a pause with untilApproved: true',
      'deploy.yml:6:61: targets.a.constraints.beforeDeployment[1].pause.approvalExpiration: must be longer than 0 seconds',
      'deploy.yml:7:61: targets.a.constraints.beforeDeployment[2].pause.requiresRole: give either requiresRoles or requiresRole, not both',
    ]);
  });

  it('rejects steps that are not pause or runWebhook', () => {
    expect(errorsOf(withWebhook(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - runWebHook: { name: Run-Tests }
              - setWeight: { weight: 10 }
              - analysis: { queries: [] }
              - pause: { duration: 1, unit: seconds }
                runWebhook: { name: Run-Tests }
              - {}
              - just a string
              - duration: 5
                unit: seconds
            afterDeployment: { pause: {} }
    `))).toEqual([
      "deploy.yml:5:11: targets.a.constraints.beforeDeployment[0].runWebHook: unknown step 'runWebHook'; expected pause, runWebhook (did you mean 'runWebhook'?)",
      "deploy.yml:6:11: targets.a.constraints.beforeDeployment[1].setWeight: setWeight steps belong in a canary strategy's steps",
      'deploy.yml:7:11: targets.a.constraints.beforeDeployment[2].analysis: analysis steps are not supported; call your analysis service with a runWebhook step instead',
      "deploy.yml:8:11: targets.a.constraints.beforeDeployment[3]: a step has exactly one of pause, runWebhook; found 'pause' and 'runWebhook' (put each in its own list item)",
      'deploy.yml:10:11: targets.a.constraints.beforeDeployment[4]: a step has exactly one of pause, runWebhook; found nothing',
      "deploy.yml:11:11: targets.a.constraints.beforeDeployment[5]: expected a step (pause, runWebhook), got the string 'just a string'",
      "deploy.yml:12:11: targets.a.constraints.beforeDeployment[6]: a step has exactly one of pause, runWebhook; found 'duration' and 'unit'",
      'deploy.yml:14:24: targets.a.constraints.afterDeployment: expected a list of steps, got a map',
    ]);
  });
});

describe('strategies', () => {
  it('reads a canary strategy in order, skipping exposeServices with a notice', () => {
    const plan = planOf(withWebhook(`
      targets:
        prod: { strategy: canary-with-checks }
      strategies:
        canary-with-checks:
          canary:
            steps:
              - setWeight: { weight: 25 }
              - exposeServices: { services: [svc], ttl: { duration: 30, unit: minutes } }
              - runWebhook: { name: Run-Tests }
              - pause: { duration: 30, unit: seconds }
              - pause: { untilApproved: true }
              - setWeight: { weight: 100 }
    `));
    expect(plan.targets[0]?.strategy).toEqual({
      kind: 'canary',
      name: 'canary-with-checks',
      steps: [
        { kind: 'setWeight', weight: 25, location: loc(7, 11) },
        { kind: 'webhook', webhook: 'Run-Tests', context: {}, location: loc(9, 11) },
        { kind: 'pause', seconds: 30, location: loc(10, 11) },
        { kind: 'approval', expirationSeconds: null, roles: [], location: loc(11, 11) },
        { kind: 'setWeight', weight: 100, location: loc(12, 11) },
      ],
    });
    expect(plan.notices).toEqual([
      'strategies.canary-with-checks.canary.steps[1].exposeServices is a Kubernetes field and is ignored (deploy.yml:8:11)',
    ]);
  });

  it('rejects weights outside 0..100 or not whole', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        s:
          canary:
            steps:
              - setWeight: { weight: 101 }
              - setWeight: { weight: 12.5 }
              - setWeight: { weight: '25' }
              - setWeight: {}
              - setWeight: { weight: 0 }
    `)).toEqual([
      'deploy.yml:6:32: strategies.s.canary.steps[0].setWeight.weight: must be at most 100, got the number 101',
      'deploy.yml:7:32: strategies.s.canary.steps[1].setWeight.weight: expected a whole number, got the number 12.5',
      "deploy.yml:8:32: strategies.s.canary.steps[2].setWeight.weight: expected a number, got the string '25'",
      'deploy.yml:9:22: strategies.s.canary.steps[3].setWeight.weight: required field missing',
    ]);
  });

  it('rejects analysis steps with a hint', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        s:
          canary:
            steps:
              - analysis:
                  queries: [error-rate]
    `)).toEqual([
      'deploy.yml:6:11: strategies.s.canary.steps[0].analysis: analysis steps are not supported; call your analysis service with a runWebhook step instead',
    ]);
  });

  it('names the webhook user as the strategy', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        s:
          canary:
            steps: [{ runWebhook: { name: Health } }]
    `)).toEqual([
      "deploy.yml:5:37: strategies.s.canary.steps[0].runWebhook.name: webhook 'Health' is used by strategy s but not defined under webhooks",
    ]);
  });

  it('reads blue/green with both spellings of shutDownOldVersionAfter', () => {
    for (const spelling of ['shutDownOldVersionAfter', 'shutdownOldVersionAfter']) {
      const plan = planOf(withWebhook(`
        targets: { prod: { strategy: bg } }
        strategies:
          bg:
            blueGreen:
              activeService: app-active
              previewService: app-preview
              redirectTrafficAfter:
                - runWebhook: { name: Run-Tests }
                - pause: { untilApproved: true }
              ${spelling}:
                - pause: { duration: 1, unit: hours }
      `));
      expect(plan.targets[0]?.strategy).toEqual({
        kind: 'blueGreen',
        name: 'bg',
        redirectTrafficAfter: [
          { kind: 'webhook', webhook: 'Run-Tests', context: {}, location: loc(8, 11) },
          { kind: 'approval', expirationSeconds: null, roles: [], location: loc(9, 11) },
        ],
        shutDownOldVersionAfter: [{ kind: 'pause', seconds: 3600, location: loc(11, 11) }],
      });
    }
  });

  it('accepts an empty blue/green strategy', () => {
    const plan = planOf('targets: { a: { strategy: bg } }\nstrategies: { bg: { blueGreen: } }\n');
    expect(plan.targets[0]?.strategy).toEqual({ kind: 'blueGreen', name: 'bg', redirectTrafficAfter: [], shutDownOldVersionAfter: [] });
  });

  it('rejects both spellings at once, setWeight and unknown fields in blue/green', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        bg:
          blueGreen:
            redirectTrafficAfter:
              - setWeight: { weight: 50 }
            shutDownOldVersionAfter: []
            shutdownOldVersionAfter: []
            activeServce: x
    `)).toEqual([
      "deploy.yml:6:11: strategies.bg.blueGreen.redirectTrafficAfter[0].setWeight: setWeight steps belong in a canary strategy's steps",
      'deploy.yml:8:7: strategies.bg.blueGreen.shutdownOldVersionAfter: give either shutDownOldVersionAfter or shutdownOldVersionAfter, not both',
      "deploy.yml:9:7: strategies.bg.blueGreen.activeServce: unknown field 'activeServce' (did you mean 'activeService'?)",
    ]);
  });

  it('rejects a strategy with both kinds, with neither, or with unknown fields', () => {
    expect(errorsOf(`
      targets: { a: {} }
      strategies:
        both: { canary: { steps: [] }, blueGreen: {} }
        neither: {}
        typo: { canery: { steps: [] } }
        stepless: { canary: { step: [] } }
        notamap: [1]
    `)).toEqual([
      'deploy.yml:3:9: strategies.both: a strategy is either canary or blueGreen, not both',
      'deploy.yml:4:12: strategies.neither: a strategy needs canary or blueGreen',
      "deploy.yml:5:11: strategies.typo.canery: unknown field 'canery' (did you mean 'canary'?)",
      "deploy.yml:6:25: strategies.stepless.canary.step: unknown field 'step' (did you mean 'steps'?)",
      'deploy.yml:7:12: strategies.notamap: expected a map, got a list',
    ]);
  });
});

describe('webhooks', () => {
  it('fills in the defaults', () => {
    const plan = planOf('targets: { a: {} }\n' + WEBHOOK);
    expect(plan.webhooks).toEqual({
      'Run-Tests': {
        name: 'Run-Tests',
        method: 'POST',
        uriTemplate: 'https://ci.example.com/run',
        headers: [],
        bodyTemplate: null,
        retryCount: 0,
        disableCallback: false,
        timeoutSeconds: 86400,
        cancel: null,
        signingSecret: null,
        location: loc(4, 5),
      },
    });
  });

  it('reads every field', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: Update Database Schema
          method: put
          uriTemplate: https://ci.example.com/hooks/migrate?env={{armory.environmentName}}
          headers:
            - { key: Authorization, value: "Bearer {{secrets.ci_token}}" }
            - { key: X-Attempt, value: 3 }
          bodyTemplate:
            inline: '{"callbackUri": "{{armory.callbackUri}}/callback"}'
          retryCount: 3
          disableCallback: true
          timeout: { duration: 2, unit: hours }
          networkMode: direct
          agentIdentifier: my-agent
    `);
    expect(plan.webhooks['Update Database Schema']).toEqual({
      name: 'Update Database Schema',
      method: 'PUT',
      uriTemplate: 'https://ci.example.com/hooks/migrate?env={{armory.environmentName}}',
      headers: [
        { key: 'Authorization', value: 'Bearer {{secrets.ci_token}}' },
        { key: 'X-Attempt', value: '3' },
      ],
      bodyTemplate: '{"callbackUri": "{{armory.callbackUri}}/callback"}',
      retryCount: 3,
      disableCallback: true,
      timeoutSeconds: 7200,
      cancel: null,
      signingSecret: null,
      location: loc(3, 5),
    });
    expect(plan.notices).toEqual([
      'webhooks[0].networkMode is ignored: the runner itself is inside your network (deploy.yml:14:5)',
      'webhooks[0].agentIdentifier is ignored: the runner itself is inside your network (deploy.yml:15:5)',
    ]);
  });

  it('rejects a duplicate name, pointing at the first one', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: Run-Tests
          uriTemplate: https://a.example.com
        - name: Run-Tests
          uriTemplate: https://b.example.com
    `)).toEqual([
      "deploy.yml:5:11: webhooks[1].name: webhook 'Run-Tests' is already defined at webhooks[0] (deploy.yml:3:5); names must be unique",
    ]);
  });

  it('rejects missing and mistyped fields, all at once', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          method: PO ST
          uriTemplte: https://a.example.com
          retryCount: 11
          disableCallback: yes
        - name: B
          uriTemplate: https://b.example.com
          retryCount: 1.5
          headers:
            - { key: "Bad Header", value: x }
            - { key: X-Ok, value: [1] }
            - { key: X-Ok, val: 1 }
        - uriTemplate: https://c.example.com
          retryCount: -1
        - just-a-name
      `)).toEqual([
      'deploy.yml:3:5: webhooks[0].uriTemplate: required field missing',
      'deploy.yml:4:13: webhooks[0].method: expected an HTTP method such as POST',
      "deploy.yml:5:5: webhooks[0].uriTemplte: unknown field 'uriTemplte' (did you mean 'uriTemplate'?)",
      'deploy.yml:6:17: webhooks[0].retryCount: must be at most 10, got the number 11',
      "deploy.yml:7:22: webhooks[0].disableCallback: expected true or false, got the string 'yes'",
      'deploy.yml:10:17: webhooks[1].retryCount: expected a whole number, got the number 1.5',
      'deploy.yml:12:16: webhooks[1].headers[0].key: expected an HTTP header name',
      'deploy.yml:13:29: webhooks[1].headers[1].value: expected a string, number or true/false, got a list',
      'deploy.yml:14:9: webhooks[1].headers[2].value: required field missing',
      "deploy.yml:14:22: webhooks[1].headers[2].val: unknown field 'val' (did you mean 'value'?)",
      'deploy.yml:15:5: webhooks[2].name: required field missing',
      'deploy.yml:16:17: webhooks[2].retryCount: must be at least 0, got the number -1',
      "deploy.yml:17:5: webhooks[3]: expected a map, got the string 'just-a-name'",
    ]);
    expect(errorsOf('targets: { a: {} }\nwebhooks: { name: x }\n')).toEqual(['deploy.yml:2:11: webhooks: expected a list of webhooks, got a map']);
  });

  it('limits the timeout to 7 days', () => {
    const at = (timeout: string) => `
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          timeout: ${timeout}
    `;
    expect(planOf(at('{ duration: 168, unit: hours }')).webhooks['A']?.timeoutSeconds).toBe(604800);
    expect(planOf(at('{ duration: 90, units: minutes }')).webhooks['A']?.timeoutSeconds).toBe(5400);
    expect(errorsOf(at('{ duration: 169, unit: hours }'))).toEqual(['deploy.yml:5:14: webhooks[0].timeout: must be at most 7 days (168 hours)']);
    expect(errorsOf(at('{ duration: 0, unit: hours }'))).toEqual(['deploy.yml:5:14: webhooks[0].timeout: must be longer than 0 seconds']);
    expect(errorsOf(at('{ duration: 1, unit: weeks }'))).toEqual(["deploy.yml:5:35: webhooks[0].timeout.unit: unknown unit 'weeks'; use seconds, minutes or hours"]);
  });

  it('keeps a folded >- body as YAML folds it', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: Check Logs
          uriTemplate: https://api.github.com/repos/o/r/dispatches
          bodyTemplate:
            inline: >-
              {"event_type": "checkLogs",
              "client_payload": {"callbackUri": "{{armory.callbackUri}}/callback"}}
    `);
    expect(plan.webhooks['Check Logs']?.bodyTemplate).toBe(
      '{"event_type": "checkLogs", "client_payload": {"callbackUri": "{{armory.callbackUri}}/callback"}}',
    );
  });

  it('reads bodyTemplate.path as written, relative to the deployment file', () => {
    const asked: string[] = [];
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          bodyTemplate: { path: bodies/a.json }
    `, {
      readFile: (path) => {
        asked.push(path);
        return '{"cb": "{{ armory.callbackUri }}"}';
      },
    });
    expect(asked).toEqual(['bodies/a.json']);
    expect(plan.webhooks['A']?.bodyTemplate).toBe('{"cb": "{{ armory.callbackUri }}"}');
  });

  it('reads bodyTemplate.path from the file system by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookgate-deploy-'));
    try {
      writeFileSync(join(dir, 'body.json'), '{"sha": "{{github.sha}}"}');
      const text = 'targets: { a: {} }\nwebhooks:\n  - name: A\n    uriTemplate: https://a.example.com\n    bodyTemplate: { path: body.json }\n';
      const result = loadDeploymentFile({ file: join(dir, 'deploy.yml'), text, secretNames: new Set(), inputContext: {}, defaultApplication: 'x' });
      expect(result.ok && result.plan.webhooks['A']?.bodyTemplate).toBe('{"sha": "{{github.sha}}"}');
      const missing = loadDeploymentFile({ file: join(dir, 'deploy.yml'), text: text.replace('body.json', 'nope.json'), secretNames: new Set(), inputContext: {}, defaultApplication: 'x' });
      expect(missing.ok).toBe(false);
      if (!missing.ok) {
        expect(missing.errors).toHaveLength(1);
        expect(missing.errors[0]).toMatchObject({ line: 5, col: 27, path: 'webhooks[0].bodyTemplate.path' });
        expect(missing.errors[0]?.message).toMatch(/^cannot read nope\.json \(relative to the deployment file\): ENOENT/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks the templates in a body file', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          bodyTemplate: { path: body.json }
    `, { readFile: () => '{"x": "{{armory.callbackUrl}}"}' })).toEqual([
      "deploy.yml:5:27: webhooks[0].bodyTemplate.path: in body.json: unknown template variable {{armory.callbackUrl}} (did you mean 'armory.callbackUri'?)",
    ]);
  });

  it('rejects a bodyTemplate with both or neither of inline and path', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          bodyTemplate: { inline: x, path: y }
        - name: B
          uriTemplate: https://b.example.com
          bodyTemplate: {}
        - name: C
          uriTemplate: https://c.example.com
          bodyTemplate: { inline: { a: 1 } }
    `)).toEqual([
      'deploy.yml:5:19: webhooks[0].bodyTemplate: give either inline or path, not both',
      'deploy.yml:8:19: webhooks[1].bodyTemplate: needs inline (the body itself) or path (a file holding it)',
      'deploy.yml:11:29: webhooks[2].bodyTemplate.inline: expected a string, got a map',
    ]);
  });
});

describe('signingSecret', () => {
  const secret = (value: string) => `
    targets: { a: {} }
    webhooks:
      - name: A
        uriTemplate: https://a.example.com
        signingSecret: ${value}
  `;

  it('reads {{secrets.NAME}}, false, and nothing', () => {
    expect(planOf(secret('"{{secrets.ci_token}}"')).webhooks['A']?.signingSecret).toBe('{{secrets.ci_token}}');
    expect(planOf(secret("'{{ secrets.ci_token }}'")).webhooks['A']?.signingSecret).toBe('{{ secrets.ci_token }}');
    expect(planOf(secret('false')).webhooks['A']?.signingSecret).toBe(false);
    expect(planOf(secret('')).webhooks['A']?.signingSecret).toBeNull();
  });

  it('refuses a secret written in the file, without repeating it', () => {
    const errors = errorsOf(secret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'));
    expect(errors).toEqual([
      'deploy.yml:5:20: webhooks[0].signingSecret: a signing secret written in the deployment file would be committed to git with it; store it as a repository secret, pass it in the secrets input (secrets: ${{ toJSON(secrets) }}) and write signingSecret: "{{secrets.NAME}}"',
    ]);
    expect(errorsOf(secret('123456'))).toEqual(['deploy.yml:5:20: webhooks[0].signingSecret: expected "{{secrets.NAME}}" (in quotes) or false']);
    expect(errorsOf(secret('true'))).toEqual(['deploy.yml:5:20: webhooks[0].signingSecret: expected "{{secrets.NAME}}" (in quotes) or false']);
  });

  it('refuses anything but one secret, alone', () => {
    expect(errorsOf(secret('"whsec_{{secrets.ci_token}}"'))).toEqual([
      'deploy.yml:5:20: webhooks[0].signingSecret: must be exactly "{{secrets.NAME}}", one secret from the secrets input and nothing else: text around it would be committed to git as part of the secret',
    ]);
    const alone = 'deploy.yml:5:20: webhooks[0].signingSecret: must be exactly "{{secrets.NAME}}", one secret from the secrets input and nothing else';
    expect(errorsOf(secret('"{{secrets.ci_token}}{{secrets.ci_token}}"'))).toEqual([alone]);
    expect(errorsOf(secret('"{{github.sha}}"'))).toEqual([alone]);
    expect(errorsOf(secret('"{{ my secret }}"'))).toEqual([alone]);
    expect(errorsOf(secret('"{{secrets.ci_token"'))).toEqual([alone]);
    expect(errorsOf(secret('"  "'))).toEqual(['deploy.yml:5:20: webhooks[0].signingSecret: must not be empty; write "{{secrets.NAME}}", or false to send this webhook unsigned']);
  });

  it('rejects a secret the secrets input does not pass, like any other use', () => {
    expect(errorsOf(secret('"{{secrets.ci_tokn}}"'))).toEqual([
      "deploy.yml:5:20: webhooks[0].signingSecret: unknown template variable {{secrets.ci_tokn}}: the secrets input has no 'ci_tokn' (did you mean 'ci_token'?)",
    ]);
  });

  it('refuses the signature headers in the call and in the cancel request, since hookgate sets them', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          headers:
            - { key: Webhook-Signature, value: "v1,abc" }
          cancelTemplate:
            uriTemplate: https://a.example.com/cancel
            headers: [{ key: webhook-id, value: x }]
    `)).toEqual([
      'deploy.yml:6:16: webhooks[0].headers[0].key: Webhook-Signature is set by hookgate when it signs the request (signingSecret or the webhook-signing-secret input); remove this header',
      'deploy.yml:9:24: webhooks[0].cancelTemplate.headers[0].key: webhook-id is set by hookgate when it signs the request (signingSecret or the webhook-signing-secret input); remove this header',
    ]);
  });
});

describe('cancelTemplate', () => {
  it('reads every field, with the same defaults as the call', () => {
    const plan = planOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com/run
          cancelTemplate:
            method: delete
            uriTemplate: https://a.example.com/jobs/{{armory.environmentName}}
            headers:
              - { key: Authorization, value: "Bearer {{secrets.ci_token}}" }
            bodyTemplate: { inline: '{"callbackUri": "{{hookgate.callbackUri}}"}' }
        - name: B
          uriTemplate: https://b.example.com/run
          cancelTemplate: { uriTemplate: "https://b.example.com/cancel?cb={{armory.callbackUri}}" }
    `);
    expect(plan.webhooks['A']?.cancel).toEqual({
      method: 'DELETE',
      uriTemplate: 'https://a.example.com/jobs/{{armory.environmentName}}',
      headers: [{ key: 'Authorization', value: 'Bearer {{secrets.ci_token}}' }],
      bodyTemplate: '{"callbackUri": "{{hookgate.callbackUri}}"}',
    });
    expect(plan.webhooks['B']?.cancel).toEqual({ method: 'POST', uriTemplate: 'https://b.example.com/cancel?cb={{armory.callbackUri}}', headers: [], bodyTemplate: null });
  });

  it('reads bodyTemplate.path and checks the templates in that file', () => {
    const text = `
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate:
            uriTemplate: https://a.example.com/cancel
            bodyTemplate: { path: bodies/cancel.json }
    `;
    const asked: string[] = [];
    const plan = planOf(text, {
      readFile: (path) => {
        asked.push(path);
        return '{"gate": "{{armory.callbackUri}}"}';
      },
    });
    expect(asked).toEqual(['bodies/cancel.json']);
    expect(plan.webhooks['A']?.cancel?.bodyTemplate).toBe('{"gate": "{{armory.callbackUri}}"}');
    expect(errorsOf(text, { readFile: () => '{"gate": "{{armory.callbackURI}}"}' })).toEqual([
      "deploy.yml:7:29: webhooks[0].cancelTemplate.bodyTemplate.path: in bodies/cancel.json: unknown template variable {{armory.callbackURI}} (did you mean 'armory.callbackUri'?)",
    ]);
    expect(errorsOf(text)).toEqual([
      "deploy.yml:7:29: webhooks[0].cancelTemplate.bodyTemplate.path: cannot read bodies/cancel.json (relative to the deployment file): ENOENT: no such file 'bodies/cancel.json'",
    ]);
  });

  it('rejects a missing uriTemplate, unknown fields and bad values, at their lines', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate:
            method: PO ST
            uriTemplte: https://a.example.com/cancel
            retryCount: 2
            bodyTemplate: {}
        - name: B
          uriTemplate: https://b.example.com
          cancelTemplate: https://b.example.com/cancel
    `)).toEqual([
      'deploy.yml:6:7: webhooks[0].cancelTemplate.uriTemplate: required field missing',
      'deploy.yml:6:15: webhooks[0].cancelTemplate.method: expected an HTTP method such as POST',
      "deploy.yml:7:7: webhooks[0].cancelTemplate.uriTemplte: unknown field 'uriTemplte' (did you mean 'uriTemplate'?)",
      "deploy.yml:8:7: webhooks[0].cancelTemplate.retryCount: unknown field 'retryCount'",
      "deploy.yml:12:21: webhooks[1].cancelTemplate: expected a map, got the string 'https://b.example.com/cancel'",
    ]);
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate: { uriTemplate: https://a.example.com, bodyTemplate: {} }
    `)).toEqual(['deploy.yml:5:73: webhooks[0].cancelTemplate.bodyTemplate: needs inline (the body itself) or path (a file holding it)']);
  });

  it('checks its templates like the call: variables, URL, syntax', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate:
            uriTemplate: ftp://a.example.com/{{armory.callbackUrl}}
            headers: [{ key: X-Token, value: "{{secrets.nope}}" }]
            bodyTemplate: { inline: "{{ a b }}" }
    `)).toEqual([
      "deploy.yml:6:20: webhooks[0].cancelTemplate.uriTemplate: unknown template variable {{armory.callbackUrl}} (did you mean 'armory.callbackUri'?)",
      'deploy.yml:6:20: webhooks[0].cancelTemplate.uriTemplate: expected an http:// or https:// URL',
      "deploy.yml:7:40: webhooks[0].cancelTemplate.headers[0].value: unknown template variable {{secrets.nope}}: the secrets input has no 'nope'",
      "deploy.yml:8:31: webhooks[0].cancelTemplate.bodyTemplate.inline: '{{ a b }}' at offset 0 is not a variable name",
    ]);
  });

  it('checks its context keys at every runWebhook step, naming the cancel field', () => {
    expect(errorsOf(`
      targets:
        a:
          constraints:
            beforeDeployment:
              - runWebhook: { name: A }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          cancelTemplate: { uriTemplate: "https://a.example.com/{{context.job}}" }
    `)).toEqual([
      "deploy.yml:5:11: targets.a.constraints.beforeDeployment[0].runWebhook: webhook 'A' uses {{context.job}} in cancelTemplate.uriTemplate, but neither this step's context, the file's context nor the context input sets job",
    ]);
  });
});

describe('templates', () => {
  const hook = (field: string) => `
    targets:
      a:
        constraints:
          beforeDeployment:
            - runWebhook: { name: A, context: { suite: smoke } }
    context: { team: payments }
    webhooks:
      - name: A
        ${field}
      - name: B
        uriTemplate: https://b.example.com/{{context.only_b}}
    `;

  it('accepts every kind of known variable', () => {
    const plan = planOf(hook(`uriTemplate: "https://x.example.com/{{ armory.environmentName }}/{{hookgate.approvalUrl}}/{{context.team}}/{{context.suite}}/{{context.region}}/{{secrets.ci_token}}/{{github.sha}}/{{hookgate.runUrl}}"`)
      .replace('{{context.only_b}}', 'b'), { inputContext: { region: 'eu' } });
    expect(plan.webhooks['A']?.uriTemplate).toContain('{{ armory.environmentName }}');
  });

  it('rejects an unknown built-in, suggesting the right one', () => {
    expect(errorsOf(hook('uriTemplate: https://x.example.com/{{armory.callbackURI}}/{{foo.bar}}').replace('{{context.only_b}}', 'b'))).toEqual([
      "deploy.yml:9:18: webhooks[0].uriTemplate: unknown template variable {{armory.callbackURI}} (did you mean 'armory.callbackUri'?)",
      'deploy.yml:9:18: webhooks[0].uriTemplate: unknown template variable {{foo.bar}}; use armory.*, hookgate.*, github.*, context.<key> or secrets.<name>',
    ]);
  });

  it('rejects a secret that is not passed in the secrets input', () => {
    expect(errorsOf(hook('uriTemplate: "https://x.example.com/{{secrets.ci_tokn}}"').replace('{{context.only_b}}', 'b'))).toEqual([
      "deploy.yml:9:18: webhooks[0].uriTemplate: unknown template variable {{secrets.ci_tokn}}: the secrets input has no 'ci_tokn' (did you mean 'ci_token'?)",
    ]);
  });


  it('checks header values and the body, at their own lines', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: https://a.example.com
          headers:
            - key: Authorization
              value: Bearer {{secrets.missing}}
          bodyTemplate:
            inline: |
              {"a": "{{github.shaa}}",
               "b": "{{ github.runId }}"}
    `)).toEqual([
      "deploy.yml:7:16: webhooks[0].headers[0].value: unknown template variable {{secrets.missing}}: the secrets input has no 'missing'",
      "deploy.yml:9:15: webhooks[0].bodyTemplate.inline: unknown template variable {{github.shaa}} (did you mean 'github.sha'?)",
    ]);
  });

  it('rejects an unclosed {{ and a malformed name', () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: A
          uriTemplate: "https://a.example.com/{{armory.deploymentId"
          bodyTemplate: { inline: "{{ a b }}" }
    `)).toEqual([
      "deploy.yml:4:18: webhooks[0].uriTemplate: '{{' at offset 22 has no closing '}}'",
      "deploy.yml:5:29: webhooks[0].bodyTemplate.inline: '{{ a b }}' at offset 0 is not a variable name",
    ]);
  });

  it('requires the uriTemplate to be an http(s) URL when its start is literal', () => {
    const uri = (value: string) => `targets: { a: {} }\nwebhooks:\n  - name: A\n    uriTemplate: "${value}"\n`;
    expect(load(uri('{{secrets.ci_token}}')).ok).toBe(true);
    expect(load(uri('https://{{secrets.ci_token}}/x')).ok).toBe(true);
    expect(load(uri('HTTP://a.example.com')).ok).toBe(true);
    expect(load(uri('ht{{secrets.ci_token}}')).ok).toBe(true);
    expect(errorsOf(uri('ftp://a.example.com'))).toEqual(['deploy.yml:4:18: webhooks[0].uriTemplate: expected an http:// or https:// URL']);
    expect(errorsOf(uri('a.example.com/{{secrets.ci_token}}'))).toEqual(['deploy.yml:4:18: webhooks[0].uriTemplate: expected an http:// or https:// URL']);
  });
});

describe('context keys, per runWebhook step', () => {
  const usedTwice = (extra = '') => `
    ${extra}
    targets:
      staging:
        constraints:
          afterDeployment:
            - runWebhook: { name: Run-Tests, context: { suite: smoke } }
      prod:
        constraints:
          afterDeployment:
            - runWebhook: { name: Run-Tests }
    webhooks:
      - name: Run-Tests
        uriTemplate: https://ci.example.com/run/{{ context.suite }}
    `;

  it('reports a use that lacks a key another use of the same webhook sets, once, at that use', () => {
    expect(errorsOf(usedTwice())).toEqual([
      "deploy.yml:10:11: targets.prod.constraints.afterDeployment[0].runWebhook: webhook 'Run-Tests' uses {{context.suite}} in uriTemplate, but neither this step's context, the file's context nor the context input sets suite",
    ]);
  });

  it("takes the key from the file's context", () => {
    expect(planOf(usedTwice('context: { suite: full }')).targets.map((t) => t.name)).toEqual(['staging', 'prod']);
  });

  it('takes the key from the context input', () => {
    expect(planOf(usedTwice(), { inputContext: { suite: 'full' } }).targets.map((t) => t.name)).toEqual(['staging', 'prod']);
  });

  it('checks canary steps, both blue/green lists and beforeDeployment, naming every field that uses the key', () => {
    expect(errorsOf(`
      context: { team: payments }
      targets:
        a:
          strategy: c
          constraints:
            beforeDeployment:
              - runWebhook: { name: H, context: { regoin: eu } }
        b: { strategy: bg }
      strategies:
        c:
          canary:
            steps:
              - runWebhook: { name: H }
        bg:
          blueGreen:
            redirectTrafficAfter:
              - runWebhook: { name: H, context: { region: eu } }
            shutDownOldVersionAfter:
              - runWebhook:
                  name: H
      webhooks:
        - name: H
          uriTemplate: https://h.example.com/{{context.region}}
          headers: [{ key: X-Team, value: "{{context.team}}" }]
          bodyTemplate: { path: body.json }
    `, { readFile: () => '{"region": "{{context.region}}"}' })).toEqual([
      "deploy.yml:7:11: targets.a.constraints.beforeDeployment[0].runWebhook: webhook 'H' uses {{context.region}} in uriTemplate and bodyTemplate.path (body.json), but neither this step's context, the file's context nor the context input sets region (did you mean 'regoin'?)",
      "deploy.yml:13:11: strategies.c.canary.steps[0].runWebhook: webhook 'H' uses {{context.region}} in uriTemplate and bodyTemplate.path (body.json), but neither this step's context, the file's context nor the context input sets region",
      "deploy.yml:19:11: strategies.bg.blueGreen.shutDownOldVersionAfter[0].runWebhook: webhook 'H' uses {{context.region}} in uriTemplate and bodyTemplate.path (body.json), but neither this step's context, the file's context nor the context input sets region",
    ]);
  });

  it("skips the context keys of a webhook nobody uses, but still checks its other names", () => {
    expect(errorsOf(`
      targets: { a: {} }
      webhooks:
        - name: Unused
          uriTemplate: https://u.example.com/{{context.anything}}/{{secrets.nope}}
    `)).toEqual([
      "deploy.yml:4:18: webhooks[0].uriTemplate: unknown template variable {{secrets.nope}}: the secrets input has no 'nope'",
    ]);
  });
});

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
      inputContext: {}, defaultApplication: 'repo',
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
      inputContext: { team: 'payments' }, defaultApplication: 'repo',
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
    expect(west?.beforeDeployment[0]).toMatchObject({ kind: 'approval', expirationSeconds: 4 * 3600, roles: ['release-managers'] });
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
      'deploymentConfig is a Kubernetes field and is ignored (deploy.yml:4:1)',
      'targets.prod-west.account is a Kubernetes field and is ignored (deploy.yml:10:5)',
      'targets.prod-west.namespace is a Kubernetes field and is ignored (deploy.yml:11:5)',
      'targets.prod-west.constraints.beforeDeployment[0].pause.requiresRoles is shown on the approval page but not enforced: the page has no login, whoever has its link decides (deploy.yml:21:13)',
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
      inputContext: {}, defaultApplication: 'repo',
    });
    expect(result.ok ? [] : result.errors.map(formatFileError)).toEqual([
      "deploy.yml:34:11: targets.staging.constraints.afterDeployment[0].runWebhook: webhook 'Run Integration Tests' uses {{context.team}} in bodyTemplate.inline, but neither this step's context, the file's context nor the context input sets team",
      "deploy.yml:112:16: webhooks[0].headers[0].value: unknown template variable {{secrets.github_token}}: the secrets input has no 'github_token'",
    ]);
  });
});

/** A small deterministic PRNG, so a failing mutation can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutateText(text: string, random: () => number): string {
  const lines = text.split('\n');
  const pick = (n: number) => Math.floor(random() * n);
  const steps = 1 + pick(4);
  for (let s = 0; s < steps; s++) {
    const i = pick(lines.length);
    const line = lines[i] ?? '';
    switch (pick(7)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, line);
        break;
      case 2: {
        const j = pick(Math.max(1, line.length - 1));
        lines[i] = line.slice(0, j) + line.charAt(j + 1) + line.charAt(j) + line.slice(j + 2);
        break;
      }
      case 3:
        lines[i] = ' '.repeat(1 + pick(4)) + line;
        break;
      case 4:
        lines[i] = line.replace(/^ {1,4}/, '');
        break;
      case 5: {
        const chars = ':{}[]-&*!|>"\'#,?% \t@`~';
        const j = pick(line.length + 1);
        lines[i] = line.slice(0, j) + chars.charAt(pick(chars.length)) + line.slice(j);
        break;
      }
      default:
        lines[i] = line.replace(/: .*$/, `: ${['null', '[]', '{}', '-1', '101', 'true', '*x', '&x y', '"{{"', '1e999', 'x'][pick(11)]}`);
    }
  }
  return lines.join('\n');
}

/** Replaces one random node of a parsed file with another value, so the validator sees well-formed YAML of the wrong shape. */
function mutateTree(value: unknown, random: () => number): unknown {
  const replacements: unknown[] = [null, 0, -5, 3.5, 250, '', 'x', 'stagin', true, [], {}, [1, 'a'], { a: { b: 1 } }, '{{', '{{nope}}'];
  const containers: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((child, i) => { containers.push({ parent: node, key: i }); walk(child); });
    else if (node !== null && typeof node === 'object') {
      for (const [k, child] of Object.entries(node)) {
        containers.push({ parent: node as Record<string, unknown>, key: k });
        walk(child);
      }
    }
  };
  walk(value);
  const target = containers[Math.floor(random() * containers.length)];
  if (target === undefined) return value;
  const choice = random();
  if (Array.isArray(target.parent)) {
    if (choice < 0.3) target.parent.splice(Number(target.key), 1);
    else target.parent[Number(target.key)] = replacements[Math.floor(random() * replacements.length)];
  } else if (choice < 0.3) {
    Reflect.deleteProperty(target.parent, target.key);
  } else if (choice < 0.4) {
    target.parent[`${target.key}x`] = target.parent[target.key];
  } else {
    target.parent[target.key] = replacements[Math.floor(random() * replacements.length)];
  }
  return value;
}

function expectWellFormed(result: LoadResult, label: string): void {
  if (result.ok) {
    expect(result.plan.targets.length, label).toBeGreaterThan(0);
    return;
  }
  expect(result.errors.length, label).toBeGreaterThan(0);
  for (const e of result.errors) {
    expect(Number.isInteger(e.line) && e.line >= 1 && Number.isInteger(e.col) && e.col >= 1, `${label}: ${formatFileError(e)}`).toBe(true);
    expect(e.message, label).not.toMatch(/internal error/);
  }
}

describe('fuzzing', () => {
  const base = fixture('armory-full.yml');
  const options = {
    file: 'deploy.yml', secretNames: new Set(['github_token', 'ci_token']), inputContext: { team: 'payments' },
    defaultApplication: 'repo', readFile: (path: string) => (path.length % 2 === 0 ? '{{armory.callbackUri}}' : '{{'),
  };

  // Each load parses YAML afresh (about 10 ms here), so these runs are a smoke test sized to keep
  // this file quick; a longer fuzz run is meant to live outside the unit tests.
  const textRuns = 120;
  const shapeRuns = 80;
  const timeout = 30_000;

  it('never throws for text mutations of the Armory file', { timeout }, () => {
    let plans = 0;
    for (let seed = 1; seed <= textRuns; seed++) {
      const text = mutateText(base, mulberry32(seed));
      let result: LoadResult | undefined;
      expect(() => {
        result = loadDeploymentFile({ ...options, text });
      }, `seed ${seed}`).not.toThrow();
      if (result === undefined) continue;
      expectWellFormed(result, `seed ${seed}`);
      if (result.ok) plans++;
    }
    // Some mutations are harmless (a duplicated comment-free line may still be valid); most are not.
    expect(plans).toBeLessThan(textRuns);
  });

  it('never throws for shape mutations of the Armory file', { timeout }, () => {
    const tree: unknown = parseDocument(base).toJS();
    for (let seed = 1; seed <= shapeRuns; seed++) {
      const random = mulberry32(seed * 7919);
      let mutated: unknown = structuredClone(tree);
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--) mutated = mutateTree(mutated, random);
      const text = stringify(mutated);
      let result: LoadResult | undefined;
      expect(() => {
        result = loadDeploymentFile({ ...options, text });
      }, `seed ${seed}`).not.toThrow();
      if (result !== undefined) expectWellFormed(result, `seed ${seed}:\n${text}`);
    }
  });

  it('never throws for odd YAML', { timeout }, () => {
    const odd = [
      '', '~', '---\n...\n', '[]', '42', '"targets"', '!!binary aGVsbG8=', 'targets: !!set { a, b }',
      'targets: &a { x: *a }', '? [a, b]\n: c\ntargets: {a: {}}', '__proto__: { targets: 1 }\ntargets: { __proto__: {} }',
      'targets: { constructor: {}, toString: {} }\nstrategies: { hasOwnProperty: { canary: {} } }',
      'targets: { a: { constraints: { beforeDeployment: &l [ *l ] } } }', 'targets:\n\ta: {}', '%YAML 1.1\n---\ntargets: { a: { strategy: yes } }',
      'targets: { a: {} }\nwebhooks: [ { name: a, uriTemplate: "https://x", timeout: { duration: 1e999, unit: hours } } ]',
      'targets: { 1: {}, true: {}, null: {} }', 'targets: { a: { constraints: { dependsOn: [1, 2] } } }',
      `targets:\n${Array.from({ length: 3000 }, (_, i) => `  t${i}: { constraints: { dependsOn: [t${i + 1}] } }`).join('\n')}\n  t3000: {}\n`,
    ];
    for (const text of odd) {
      let result: LoadResult | undefined;
      expect(() => {
        result = loadDeploymentFile({ ...options, text });
      }, text.slice(0, 80)).not.toThrow();
      if (result !== undefined) expectWellFormed(result, text.slice(0, 80));
    }
  });
});

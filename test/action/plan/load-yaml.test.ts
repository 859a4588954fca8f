import { describe, expect, it } from 'vitest';
import { formatFileError } from '../../../action/plan/load.ts';
import { planOf, errorsOf, loc } from './helpers.ts';

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

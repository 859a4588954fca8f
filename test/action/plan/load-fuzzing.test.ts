import { describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';
import { formatFileError, loadDeploymentFile } from '../../../action/plan/load.ts';
import type { LoadResult } from '../../../action/plan/load.ts';
import { fixture } from './helpers.ts';

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

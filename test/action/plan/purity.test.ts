import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PLAN = join(import.meta.dirname, '..', '..', '..', 'action', 'plan');

// file → plan is a pure function: the caller reads files (confined to the workspace) and passes a reader in.
describe('action/plan', () => {
  it('imports no Node built-in (no file system, no paths)', () => {
    const imports = readdirSync(PLAN)
      .filter((name) => name.endsWith('.ts'))
      .flatMap((name) => [...readFileSync(join(PLAN, name), 'utf8').matchAll(/from '(node:[^']+)'/g)].map((m) => `${name}: ${m[1]}`));
    expect(imports).toEqual([]);
  });
});

/**
 * Every workflow the repository ships (.github/workflows/) or shows (examples/workflows/, which
 * README quotes) passes GitHub's own schema and actionlint, action.yml passes GitHub's action
 * schema, and the repository's workflows pin every third-party action to a commit.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../../scripts/local-relay.ts';
import { actionlintFindings, schemaFindings } from './workflow-linters.ts';

const WORKFLOW_DIRS = ['.github/workflows', 'examples/workflows'];

/** The action and the repository's own composite actions (self-test.yml's). */
async function actionFiles(): Promise<{ path: string; text: string }[]> {
  const own = (await readdir(join(ROOT, '.github/actions'))).sort().map((name) => `.github/actions/${name}/action.yml`);
  return Promise.all(['action.yml', ...own].map(async (path) => ({ path, text: await readFile(join(ROOT, path), 'utf8') })));
}

async function workflowFiles(): Promise<{ path: string; text: string }[]> {
  const files = await Promise.all(
    WORKFLOW_DIRS.map(async (dir) => {
      const names = (await readdir(join(ROOT, dir))).filter((name) => /\.ya?ml$/.test(name)).sort();
      return Promise.all(names.map(async (name) => ({ path: `${dir}/${name}`, text: await readFile(join(ROOT, dir, name), 'utf8') })));
    }),
  );
  return files.flat();
}

/** A workflow that is wrong in a way each linter alone sees, so neither can pass by seeing nothing. */
const BROKEN = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    needs: missing-job
    timeout-minute: 5
    steps:
      - run: echo "\${{ github.event.head_commit.message }} \${{ steps.nothing.outputs.x }}"
`;

describe('workflow lint', () => {
  it('finds what is wrong in a broken workflow (both linters run)', async () => {
    const schema = schemaFindings('broken.yml', BROKEN, 'workflow');
    expect(schema.join('\n')).toMatch(/timeout-minute/);
    const actionlint = (await actionlintFindings('broken.yml', BROKEN)).join('\n');
    expect(actionlint).toMatch(/missing-job/);
    expect(actionlint).toMatch(/head_commit\.message" is potentially untrusted/);
    expect(schemaFindings('action.yml', 'name: x\ndescription: y\nruns: { using: node99, main: a.js }\n', 'action').join('\n')).toMatch(/node99/);
  });

  it('passes every workflow of .github/workflows and examples/workflows', async () => {
    const files = await workflowFiles();
    const names = files.map((file) => file.path);
    for (const name of ['ci', 'self-test', 'release', 'deploy-relay']) expect(names).toContain(`.github/workflows/${name}.yml`);
    expect(names.filter((name) => name.startsWith('examples/')).length).toBeGreaterThanOrEqual(5);
    const findings: string[] = [];
    for (const { path, text } of files) {
      findings.push(...schemaFindings(path, text, 'workflow'), ...(await actionlintFindings(path, text)));
    }
    expect(findings).toEqual([]);
  });

  it('passes action.yml and .github/actions/*/action.yml against GitHub’s action schema', async () => {
    const files = await actionFiles();
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(files.flatMap(({ path, text }) => schemaFindings(path, text, 'action'))).toEqual([]);
  });

  it('pins every third-party action of .github/ to a full commit SHA, the version in a comment', async () => {
    const files = [...(await workflowFiles()), ...(await actionFiles())].filter((file) => file.path.startsWith('.github/'));
    const loose = files.flatMap(({ path, text }) =>
      text.split('\n').flatMap((line, index) => {
        const uses = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!uses || uses[1]!.startsWith('./')) return [];
        return /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses[1]!) && /^\s+# v\d+\.\d+\.\d+$/.test(uses[2]!) ? [] : [`${path}:${index + 1}: ${line.trim()}`];
      }),
    );
    expect(loose).toEqual([]);
  });

  it('keeps dependabot on npm and github-actions, weekly', async () => {
    const config = parse(await readFile(join(ROOT, '.github/dependabot.yml'), 'utf8')) as { version: number; updates: { 'package-ecosystem': string; schedule: { interval: string } }[] };
    expect(config.version).toBe(2);
    expect(config.updates.map((update) => update['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
    for (const update of config.updates) expect(update.schedule.interval).toBe('weekly');
  });
});

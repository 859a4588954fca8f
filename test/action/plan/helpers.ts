/** Shared by the loader's tests: inline YAML in, a plan or `file:line:col` errors out. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatFileError, loadDeploymentFile } from '../../../action/plan/load.ts';
import type { LoadOptions, LoadResult } from '../../../action/plan/load.ts';
import type { Plan } from '../../../action/plan/plan.ts';

export const FILE = 'deploy.yml';
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');

/** Strips the indentation shared by all lines, so YAML can be written inline and line 1 is its first line. */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').replace(/\n[ \t]*$/, '\n').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length);
  const indent = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** A `readFile` for files that name no `bodyTemplate.path`, or should find none. */
export function noFiles(path: string): string {
  throw new Error(`ENOENT: no such file '${path}'`);
}

export function load(text: string, options: Partial<LoadOptions> = {}): LoadResult {
  return loadDeploymentFile({
    file: FILE,
    text: dedent(text),
    secretNames: new Set(['ci_token']),
    inputContext: {},
    defaultApplication: 'my-repo',
    readFile: noFiles,
    ...options,
  });
}

export function planOf(text: string, options: Partial<LoadOptions> = {}): Plan {
  const result = load(text, options);
  if (!result.ok) throw new Error(`expected a plan, got:\n${result.errors.map(formatFileError).join('\n')}`);
  return result.plan;
}

export function errorsOf(text: string, options: Partial<LoadOptions> = {}): string[] {
  const result = load(text, options);
  if (result.ok) throw new Error('expected errors, got a plan');
  return result.errors.map(formatFileError);
}

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** An approval's rules when the file names no one: anyone with write access, one approval. */
export const ANYONE = { approvers: [], ownerTeams: [], minimumApprovals: 1, preventSelfReview: false };

export const loc = (line: number, col: number): { file: string; line: number; col: number } => ({ file: FILE, line, col });

export const WEBHOOK = `
webhooks:
  - name: Run-Tests
    uriTemplate: https://ci.example.com/run
`;
/** The file with one webhook, Run-Tests, appended. */
export const withWebhook = (text: string): string => dedent(text) + WEBHOOK;

/**
 * README's workflow examples, read as GitHub reads them: a job with `environment:` gets a GitHub
 * deployment from GitHub itself unless it opts out (`deployment: false`), and every hookgate step
 * with a `github-token` (the default) makes one per target — so no target may get both. README
 * quotes each workflow from examples/workflows/, where the lint test (workflows-lint.test.ts) checks it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, parse, parseAllDocuments } from 'yaml';
import { ROOT } from '../../scripts/local-relay.ts';

type Step = { uses?: unknown; with?: Record<string, unknown> };
type Job = { environment?: unknown; steps?: Step[] };

/**
 * The ```yaml blocks of README that are workflows or parts of one (a top-level `jobs:` or `on:`,
 * or a step that uses hookgate), each with the line it starts at and its jobs (none for a part).
 */
async function readmeWorkflows(): Promise<{ line: number; text: string; jobs: Record<string, Job> }[]> {
  const text = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks: { line: number; text: string; jobs: Record<string, Job> }[] = [];
  for (const match of text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) {
    const block = match[1] ?? '';
    const [doc] = parseAllDocuments(block);
    const value = doc && doc.errors.length === 0 && isMap(doc.contents) ? (doc.toJS() as { jobs?: Record<string, Job>; on?: unknown }) : {};
    if (!value.jobs && value.on === undefined && !/^\s*(- )?uses: \S*hookgate@/m.test(block)) continue;
    blocks.push({ line: text.slice(0, match.index).split('\n').length, text: block, jobs: value.jobs ?? {} });
  }
  return blocks;
}

/** Whether `part`'s lines appear, in order and together, in `whole`. */
function isExcerpt(part: string, whole: string): boolean {
  const lines = part.replace(/\n$/, '').split('\n');
  const all = whole.split('\n');
  return all.some((_, start) => lines.every((line, i) => all[start + i] === line));
}

/** examples/workflows/*.yml: the workflows README quotes. */
async function exampleWorkflows(): Promise<{ path: string; text: string; jobs: Record<string, Job> }[]> {
  const names = (await readdir(join(ROOT, 'examples/workflows'))).filter((name) => name.endsWith('.yml')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(join(ROOT, 'examples/workflows', name), 'utf8');
      return { path: `examples/workflows/${name}`, text, jobs: (parse(text) as { jobs: Record<string, Job> }).jobs };
    }),
  );
}

/** The environment GitHub makes a deployment for in this job, or null. */
function githubDeploys(environment: unknown): string | null {
  if (typeof environment === 'string') return environment;
  if (typeof environment !== 'object' || environment === null) return null;
  const { name, deployment } = environment as { name?: unknown; deployment?: unknown };
  return deployment === false || typeof name !== 'string' ? null : name;
}

/** The targets hookgate makes GitHub deployments for in these jobs: its steps with a `target` and a github-token. */
function hookgateDeploys(jobs: Record<string, Job>): Set<string> {
  const steps = Object.values(jobs).flatMap((job) => job.steps ?? []);
  const hookgate = steps.filter((step) => typeof step.uses === 'string' && step.uses.includes('hookgate'));
  return new Set(hookgate.filter((step) => step.with?.['github-token'] !== '').map((step) => String(step.with?.target ?? '*')));
}

describe("README's workflow examples", () => {
  it('are quoted from examples/workflows/*.yml (whole or an excerpt of consecutive lines)', async () => {
    const files = await exampleWorkflows();
    const blocks = await readmeWorkflows();
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const unquoted = blocks.filter((block) => !files.some((file) => isExcerpt(block.text, file.text)));
    expect(unquoted.map(({ line }) => `README.md:${line}: not lines of any examples/workflows/*.yml`)).toEqual([]);
  });

  it('give each target one GitHub deployment: GitHub’s (the job’s environment) or hookgate’s, never both', async () => {
    const blocks = [
      ...(await readmeWorkflows()).map(({ line, jobs }) => ({ where: `README.md:${line}`, jobs })),
      ...(await exampleWorkflows()).map(({ path, jobs }) => ({ where: path, jobs })),
    ];
    // The examples that use environments: one job per environment, and the protection rule.
    expect(blocks.filter((block) => Object.values(block.jobs).some((job) => job.environment !== undefined)).length).toBeGreaterThanOrEqual(2);
    const twice = blocks.flatMap(({ where, jobs }) => {
      const byHookgate = hookgateDeploys(jobs);
      return Object.entries(jobs).flatMap(([name, job]) => {
        const environment = githubDeploys(job.environment);
        return environment !== null && (byHookgate.has(environment) || byHookgate.has('*')) ? [`${where}: job ${name} (${environment})`] : [];
      });
    });
    expect(twice).toEqual([]);
  });
});

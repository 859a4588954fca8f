/**
 * README's workflow examples, read as GitHub reads them: a job with `environment:` gets a GitHub
 * deployment from GitHub itself unless it opts out (`deployment: false`), and every hookgate step
 * with a `github-token` (the default) makes one per target — so no target may get both.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, parseAllDocuments } from 'yaml';
import { ROOT } from '../../scripts/local-relay.ts';

type Step = { uses?: unknown; with?: Record<string, unknown> };
type Job = { environment?: unknown; steps?: Step[] };

/** The ```yaml blocks of README that are workflows (have `jobs:`), each with the line it starts at. */
async function workflowBlocks(): Promise<{ line: number; jobs: Record<string, Job> }[]> {
  const text = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks: { line: number; jobs: Record<string, Job> }[] = [];
  for (const match of text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) {
    const [doc] = parseAllDocuments(match[1] ?? '');
    if (!doc || doc.errors.length > 0 || !isMap(doc.contents)) continue;
    const value = doc.toJS() as { jobs?: Record<string, Job> };
    if (!value.jobs) continue;
    blocks.push({ line: text.slice(0, match.index).split('\n').length, jobs: value.jobs });
  }
  return blocks;
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
  it('give each target one GitHub deployment: GitHub’s (the job’s environment) or hookgate’s, never both', async () => {
    const blocks = await workflowBlocks();
    // The examples that use environments: one job per environment, and the protection rule.
    expect(blocks.filter((block) => Object.values(block.jobs).some((job) => job.environment !== undefined)).length).toBeGreaterThanOrEqual(2);
    const twice = blocks.flatMap(({ line, jobs }) => {
      const byHookgate = hookgateDeploys(jobs);
      return Object.entries(jobs).flatMap(([name, job]) => {
        const environment = githubDeploys(job.environment);
        return environment !== null && (byHookgate.has(environment) || byHookgate.has('*')) ? [`README.md:${line}: job ${name} (${environment})`] : [];
      });
    });
    expect(twice).toEqual([]);
  });
});

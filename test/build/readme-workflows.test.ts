/**
 * README's workflow examples, read as GitHub reads them: a job with `environment:` gets a GitHub
 * deployment from GitHub itself unless it opts out (`deployment: false`), and hookgate makes one
 * per target with its default `github-token` — so an example job that runs hookgate (or deploys
 * behind hookgate's protection rule) in an environment must opt out, or that target gets two.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, parseAllDocuments } from 'yaml';
import { ROOT } from '../../scripts/local-relay.ts';

type Job = { environment?: unknown; steps?: { uses?: unknown }[] };

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

/** Whether GitHub makes its own deployment for a job with this `environment:`. */
function githubDeploys(environment: unknown): boolean {
  if (environment === undefined) return false;
  if (typeof environment === 'string') return true;
  return (environment as { deployment?: unknown }).deployment !== false;
}

describe("README's workflow examples", () => {
  it('give each target one GitHub deployment: jobs in an environment opt out of GitHub’s own', async () => {
    const blocks = await workflowBlocks();
    // The examples that use environments: one job per environment, and the protection rule.
    expect(blocks.filter((block) => Object.values(block.jobs).some((job) => job.environment !== undefined)).length).toBeGreaterThanOrEqual(2);
    const twice = blocks.flatMap(({ line, jobs }) =>
      Object.entries(jobs)
        .filter(([, job]) => githubDeploys(job.environment))
        .map(([name]) => `README.md:${line}: job ${name}`),
    );
    expect(twice).toEqual([]);
  });
});

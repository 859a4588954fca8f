/** The bundle keeps Octokit out of what loads at start. */
import { readdir, readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { buildOptions } from '../../../build.ts';
import { ROOT } from '../../../scripts/local-relay.ts';

describe('the bundle', () => {
  it('loads Octokit only when a deployment is made: it is in a lazy chunk, not in what loads at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hookgate-github-deployments-'));
    try {
      const entry = join(dir, 'entry.ts');
      await writeFile(entry, `import { createGitHubDeployments } from ${JSON.stringify(join(ROOT, 'action', 'clients', 'github-deployments.ts'))};\nconsole.log(typeof createGitHubDeployments);\n`);
      await build({ ...buildOptions, absWorkingDir: ROOT, entryPoints: { entry }, outdir: join(dir, 'out'), logLevel: 'silent' });
      const out = join(dir, 'out');
      const eager = new Set<string>();
      const visit = async (file: string): Promise<void> => {
        if (eager.has(file)) return;
        eager.add(file);
        const text = await readFile(join(out, file), 'utf8');
        for (const m of text.matchAll(/(?:from|import)\s*"\.\/((?:chunks\/)?[^"]+)"/g)) await visit(join(file, '..', m[1] ?? '').replace(/^\.\//, ''));
      };
      await visit('entry.js');
      const all = (await readdir(out, { recursive: true })).filter((f) => f.endsWith('.js'));
      const lazy = all.filter((f) => !eager.has(f));
      const eagerText = (await Promise.all([...eager].map((f) => readFile(join(out, f), 'utf8')))).join('');
      const lazyText = (await Promise.all(lazy.map((f) => readFile(join(out, f), 'utf8')))).join('');
      expect(eagerText).not.toContain('octokit');
      expect(lazyText).toContain('octokit');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

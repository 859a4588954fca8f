/** dist/ is committed (the runner does not run npm install): it must be exactly what the source builds. */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../build.ts';
import { ROOT } from '../../scripts/local-relay.ts';

async function files(dir: string): Promise<Map<string, Buffer>> {
  const result = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    result.set(relative(dir, path), await readFile(path));
  }
  return result;
}

const outdir = await mkdtemp(join(tmpdir(), 'hookgate-dist-'));
afterAll(() => rm(outdir, { recursive: true, force: true }));

describe('dist/', () => {
  it('is fresh: rebuilding the source gives the committed files byte for byte (run `npm run build`)', async () => {
    await buildDist(outdir, { absWorkingDir: ROOT, logLevel: 'silent' });
    const fresh = await files(outdir);
    const committed = await files(join(ROOT, 'dist'));
    expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
    for (const [name, content] of fresh) {
      expect(committed.get(name)?.equals(content), `dist/${name} is stale: run npm run build`).toBe(true);
    }
  });

  it('is what action.yml runs, on node24', async () => {
    const actionYml = await readFile(join(ROOT, 'action.yml'), 'utf8');
    expect(actionYml).toMatch(/using: node24\n\s+main: dist\/index.js\n\s+post: dist\/post.js/);
  });
});

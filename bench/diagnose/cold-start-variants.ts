/**
 * `node bench/diagnose/cold-start-variants.ts`: the cold start of dist/ as
 * committed, of a fresh build of the source, and of that build with
 * @actions/http-client stubbed out (it brings a bundled undici; @actions/core
 * imports it only for getIDToken, which the action does not call yet). Builds go
 * to a temp dir; nothing in the repository changes.
 */
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildOptions } from '../../build.ts';
import { measureColdStart } from '../cold-start.ts';

const stubHttpClient: Plugin = {
  name: 'stub-http-client',
  setup(b) {
    b.onResolve({ filter: /^@actions\/http-client(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'export class HttpClient { constructor() { throw new Error("OIDC is not bundled"); } } export class BearerCredentialHandler {}',
      loader: 'js',
    }));
  },
};

async function size(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const out = await mkdtemp(join(tmpdir(), 'hookgate-variants-'));
try {
  await build({ ...buildOptions, outdir: join(out, 'source') });
  await build({ ...buildOptions, outdir: join(out, 'no-http-client'), plugins: [stubHttpClient] });
  const variants: [string, string][] = [
    ['dist/ (committed)', join(import.meta.dirname, '..', '..', 'dist', 'index.js')],
    ['fresh build of the source', join(out, 'source', 'index.js')],
    ['… without @actions/http-client', join(out, 'no-http-client', 'index.js')],
  ];
  for (const [name, entry] of variants) {
    const result = await measureColdStart(15, entry);
    console.log(
      `${name.padEnd(32)} p50 ${result.action.p50.toFixed(1)} ms, max ${result.action.max.toFixed(1)} ms (Node floor p50 ${result.nodeFloor.p50.toFixed(1)} ms); ${((await size(dirname(entry))) / 1000).toFixed(1)} KB`,
    );
  }
} finally {
  await rm(out, { recursive: true, force: true });
}

/** Bundles the action into dist/ (committed: the runner does not run npm install). */
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BuildOptions, Plugin } from 'esbuild';
import { deploymentJsonSchemaText, SCHEMA_FILE } from './scripts/json-schema.ts';

/**
 * @actions/core's imports of @actions/http-client resolve to action/clients/lazy-http-client.ts,
 * which loads the real client (and its bundled undici) only when getIDToken runs.
 */
const lazyHttpClient: Plugin = {
  name: 'lazy-http-client',
  setup(b) {
    const shim = fileURLToPath(new URL('action/clients/lazy-http-client.ts', import.meta.url));
    b.onResolve({ filter: /^@actions\/http-client(\/lib\/auth)?$/ }, (args) =>
      /[\\/]@actions[\\/]core[\\/]/.test(args.importer) ? { path: shim } : undefined,
    );
  },
};

/**
 * @actions/github and @actions/http-client each carry their own copy of undici 6
 * (npm cannot dedupe them: the root holds undici 7 for miniflare). Both resolve to
 * http-client's copy, so dist/ holds one (about 415 KB less).
 */
const oneUndici: Plugin = {
  name: 'one-undici',
  setup(b) {
    const shared = fileURLToPath(new URL('node_modules/@actions/http-client/node_modules/undici/index.js', import.meta.url));
    b.onResolve({ filter: /^undici$/ }, (args) => (/[\\/]@actions[\\/]/.test(args.importer) ? { path: shared } : undefined));
  },
};

// Some dependencies are CommonJS and call require(); ESM bundles need it defined.
const REQUIRE_BANNER = "import { createRequire as __hookgateRequire } from 'node:module'; const require = __hookgateRequire(import.meta.url);";

/** Options shared by `npm run build` and the dist freshness test. */
export const buildOptions = {
  entryPoints: { index: 'action/index.ts', post: 'action/post.ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  // index and post share the relay client and @actions/core: one chunk keeps dist/ small.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  charset: 'utf8',
  banner: { js: REQUIRE_BANNER },
  logLevel: 'warning',
  plugins: [lazyHttpClient, oneUndici] as Plugin[],
} as const;

/**
 * `npx hookgate validate` (package.json's bin): one file of its own, not sharing the action's chunks,
 * so it starts with the shebang npm's bin link needs.
 */
export const cliBuildOptions = {
  ...buildOptions,
  entryPoints: { cli: 'action/cli.ts' },
  splitting: false,
  banner: { js: `#!/usr/bin/env node\n${REQUIRE_BANNER}` },
} as const;

type Options = Pick<BuildOptions, 'absWorkingDir' | 'logLevel'>;

/** dist/cli.js and dist/deploy.schema.json. */
async function buildCli(outdir: string, options: Options): Promise<void> {
  const dir = resolve(options.absWorkingDir ?? process.cwd(), outdir);
  await build({ ...cliBuildOptions, ...options, outdir });
  // npm's bin link runs the file itself: without the executable bit, `npx hookgate` is "Permission denied".
  await chmod(join(dir, 'cli.js'), 0o755);
  await writeFile(join(dir, SCHEMA_FILE), deploymentJsonSchemaText());
}

/** Everything dist/ holds, written to `outdir`: the action, the CLI and the deployment file's JSON Schema. */
export async function buildDist(outdir: string, options: Options = {}): Promise<void> {
  await build({ ...buildOptions, ...options, outdir });
  await buildCli(outdir, options);
}

if (import.meta.main) {
  if (process.argv.includes('--cli')) {
    // The CLI and the schema alone, leaving the action's bundle (which other work may be running) as it is.
    await buildCli('dist', {});
    console.log(`built dist/cli.js and dist/${SCHEMA_FILE}`);
  } else {
    // Chunk names carry a hash: clear old ones so dist/ holds exactly this build.
    await rm('dist', { recursive: true, force: true });
    await buildDist('dist');
    console.log(`built dist/index.js, dist/post.js, dist/cli.js and dist/${SCHEMA_FILE}`);
  }
}

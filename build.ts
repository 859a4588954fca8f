/** Bundles the action into dist/ (committed: the runner does not run npm install). */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

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
  // Some dependencies are CommonJS and call require(); ESM bundles need it defined.
  banner: { js: "import { createRequire as __hookgateRequire } from 'node:module'; const require = __hookgateRequire(import.meta.url);" },
  logLevel: 'warning',
  plugins: [lazyHttpClient, oneUndici] as Plugin[],
} as const;

if (import.meta.main) {
  // Chunk names carry a hash: clear old ones so dist/ holds exactly this build.
  await rm('dist', { recursive: true, force: true });
  await build({ ...buildOptions, outdir: 'dist' });
  console.log('built dist/index.js and dist/post.js');
}

import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { relayBindings, relayOutbound } from './test/support/relay-outbound/index.ts';

// No test calls a public host: miniflare must not download Request.cf metadata.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';

export default defineConfig({
  test: {
    // Vitest's default is one worker less than the cores: on a 2-core machine every file ran one
    // after another (and a project with `fileParallelism: false` runs alone, after all the others).
    // The e2e files mostly wait on child processes, so one per core fits beside the unit tests.
    maxWorkers: '100%',
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/action/**/*.test.ts', 'test/shared/**/*.test.ts', 'test/build/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './relay/wrangler.jsonc' },
            miniflare: {
              bindings: relayBindings(),
              outboundService: relayOutbound,
            },
          }),
        ],
        test: {
          name: 'relay',
          include: ['test/relay/**/*.test.ts'],
          // Files of one worker share a workerd and so its storage (the plugin isolates storage per file
          // only with isolation on); the tests make their own run ids (test/relay/helpers.ts newRunId), and
          // this halves the project's time (100 s → 45 s on 2 cores).
          isolate: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // One relay for the files that need none of their own (test/e2e/shared-relay.ts).
          globalSetup: ['test/e2e/shared-relay.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});

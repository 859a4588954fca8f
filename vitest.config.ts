import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { createSigningKey } from './test/support/oidc-issuer.ts';

// No test calls a public host: miniflare must not download Request.cf metadata.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';

/**
 * The relay tests' GitHub OIDC issuer: a key pair made for each run. Its JWKS reaches the
 * Worker through miniflare's outbound service below, the only answer any fetch of the
 * Worker gets; the private key reaches the tests as a binding, so they sign tokens in workerd.
 */
const RELAY_TEST_ISSUER = 'https://token.actions.test';
const relayTestKey = await createSigningKey();
/** JWKS fetches per path, for the tests of the relay's key cache (`GET <issuer>/jwks-fetches?path=`). */
const relayJwksFetches = new Map<string, number>();

function relayOutbound(request: Request): Response {
  const url = new URL(request.url);
  if (url.origin === RELAY_TEST_ISSUER && url.pathname.endsWith('/jwks')) {
    relayJwksFetches.set(url.pathname, (relayJwksFetches.get(url.pathname) ?? 0) + 1);
    return Response.json(relayTestKey.jwks);
  }
  if (url.origin === RELAY_TEST_ISSUER && url.pathname === '/jwks-fetches') {
    return Response.json(relayJwksFetches.get(url.searchParams.get('path') ?? '') ?? 0);
  }
  // Anything else stands for an issuer that is down; no test reaches a real host.
  return new Response(`the relay tests answer no ${request.method} ${url.href}`, { status: 502 });
}

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
              bindings: {
                RELAY_TOKEN: 'test-relay-token',
                CALLBACK_SECRET: 'test-callback-secret',
                OIDC_ISSUER: RELAY_TEST_ISSUER,
                OIDC_JWKS_URL: `${RELAY_TEST_ISSUER}/.well-known/jwks`,
                // Separators of every kind, a wildcard and a name in another case (test/relay/oidc.ts).
                ALLOWED_REPOSITORIES: 'acme/potato-facts, acme/other\nwild-org/*  Octo-Org/Widgets',
                OIDC_TEST_PRIVATE_JWK: relayTestKey.privateJwk,
              },
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

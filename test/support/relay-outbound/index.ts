/**
 * What the relay tests' Worker reaches when it fetches: miniflare's outbound service answers
 * every fetch with these fakes (the OIDC issuer, GitHub's App, its workflow runs, OAuth and
 * protection-rule endpoints); anything else stands for a host that is down. No test reaches a real host.
 */
import { githubApp, githubError, RELAY_TEST_APP_ID, RELAY_TEST_GITHUB, relayAppKey } from './github-app.ts';
import { githubOAuth, RELAY_TEST_CLIENT_ID, RELAY_TEST_CLIENT_SECRET } from './github-oauth.ts';
import { githubProtection } from './github-protection.ts';
import { githubRuns } from './github-runs.ts';
import type { JWK } from 'jose';
import { oidcIssuer, RELAY_TEST_ISSUER, relayTestKey } from './oidc.ts';

/** GitHub's web origin in the relay tests (OAuth pages), beside its API origin RELAY_TEST_GITHUB. */
export const RELAY_TEST_GITHUB_WEB = 'https://github.test';

export async function relayOutbound(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const issuer = oidcIssuer(url);
  if (issuer) return issuer;
  if (url.origin === RELAY_TEST_GITHUB || url.origin === RELAY_TEST_GITHUB_WEB) {
    for (const fake of [githubOAuth, githubProtection, githubApp, githubRuns]) {
      const answer = await fake(request, url);
      if (answer) return answer;
    }
    return githubError(404, `the fake GitHub has no ${request.method} ${url.pathname}`);
  }
  return new Response(`the relay tests answer no ${request.method} ${url.href}`, { status: 502 });
}

/** The relay's bindings in its tests (vitest.config.ts). */
export function relayBindings(): Record<string, string | JWK> {
  return {
    RELAY_TOKEN: 'test-relay-token',
    CALLBACK_SECRET: 'test-callback-secret',
    OIDC_ISSUER: RELAY_TEST_ISSUER,
    OIDC_JWKS_URL: `${RELAY_TEST_ISSUER}/.well-known/jwks`,
    // Separators of every kind, a wildcard and a name in another case (test/relay/oidc.ts).
    ALLOWED_REPOSITORIES: 'acme/potato-facts, acme/other\nwild-org/*  Octo-Org/Widgets',
    OIDC_TEST_PRIVATE_JWK: relayTestKey.privateJwk,
    GITHUB_APP_ID: RELAY_TEST_APP_ID,
    GITHUB_APP_PRIVATE_KEY: String(relayAppKey.privateKey.export({ type: 'pkcs1', format: 'pem' })),
    GITHUB_API_URL: RELAY_TEST_GITHUB,
    // Short enough for a test to age a dispatch past it.
    RESUME_RETRY_SECONDS: '120',
    GITHUB_TEST_PKCS8_KEY: String(relayAppKey.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    GITHUB_TEST_PUBLIC_KEY: String(relayAppKey.publicKey.export({ type: 'spki', format: 'pem' })),
    // Sign-in (issue 12) stays off for the relay's other tests: the sign-in tests pass these to the
    // app as GITHUB_APP_CLIENT_ID / GITHUB_APP_CLIENT_SECRET (test/relay/auth/signin.ts).
    GITHUB_SERVER_URL: RELAY_TEST_GITHUB_WEB,
    SIGNIN_TEST_CLIENT_ID: RELAY_TEST_CLIENT_ID,
    SIGNIN_TEST_CLIENT_SECRET: RELAY_TEST_CLIENT_SECRET,
    // POST /github/webhook verifies deliveries with it (test/relay/worker/github-webhook.test.ts).
    GITHUB_WEBHOOK_SECRET: 'test-webhook-secret',
  };
}

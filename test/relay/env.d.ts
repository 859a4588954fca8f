import type { JWK } from 'jose';
import type { Env as RelayEnv } from '../../relay/worker/env.ts';

declare global {
  namespace Cloudflare {
    // cloudflare:test's `env` has the relay's bindings (the declaration merging workers-types documents).
    interface Env extends RelayEnv {
      /** The private half of the test issuer's key (vitest.config.ts), to sign OIDC tokens in the tests. */
      OIDC_TEST_PRIVATE_JWK: JWK;
      /** The tests' GitHub App key as PKCS#8 PEM (the relay's binding holds it as PKCS#1), and its public half. */
      GITHUB_TEST_PKCS8_KEY: string;
      GITHUB_TEST_PUBLIC_KEY: string;
      /** The fake GitHub's OAuth client (test/support/relay-outbound/github-oauth.ts): sign-in tests set them as the relay's client id and secret. */
      SIGNIN_TEST_CLIENT_ID: string;
      SIGNIN_TEST_CLIENT_SECRET: string;
    }
  }
}

import type { RunEnv } from '../run/env.ts';
import type { QueueObject } from '../queue/object.ts';
import type { RunObject } from '../run/object.ts';

/** Bindings and secrets of the relay Worker (relay/wrangler.jsonc); read only through relay/worker/config.ts. */
export interface Env extends RunEnv {
  RUNS: DurableObjectNamespace<RunObject>;
  /** The deploy queues, one per repository and application (relay/queue/object.ts); absent from a relay configured before them: /v1/queue/* answers 404. */
  QUEUES?: DurableObjectNamespace<QueueObject>;
  /** Bearer secret the action presents (`wrangler secret put RELAY_TOKEN`); may act on every run. */
  RELAY_TOKEN?: string;
  /** Key that binds callback and approval tokens to their run and gate (`wrangler secret put CALLBACK_SECRET`). */
  CALLBACK_SECRET?: string;
  /** Public origin used in callback and approval URLs; defaults to the origin the action called. */
  PUBLIC_URL?: string;
  /** Whose GitHub Actions OIDC tokens are accepted: `owner/repo`, `owner/*` or a `sub` pattern (`repo:owner/repo:ref:refs/heads/main`), comma or space separated; empty: OIDC off. */
  ALLOWED_REPOSITORIES?: string;
  /** The OIDC tokens' issuer; default `https://token.actions.githubusercontent.com`. */
  OIDC_ISSUER?: string;
  /** Where the issuer publishes its signing keys; default `<OIDC_ISSUER>/.well-known/jwks`. */
  OIDC_JWKS_URL?: string;
  /** The audience the tokens must carry; default PUBLIC_URL, else the origin the action called. */
  OIDC_AUDIENCE?: string;
  /** The GitHub App's client id, for sign-in on approval pages (relay/auth/setup.ts); with the secret below, deciding needs a GitHub login. */
  GITHUB_APP_CLIENT_ID?: string;
  /** The GitHub App's client secret (`wrangler secret put GITHUB_APP_CLIENT_SECRET`). */
  GITHUB_APP_CLIENT_SECRET?: string;
  /** GitHub's web origin, where its sign-in pages are; default https://github.com (GitHub Enterprise Server: https://HOSTNAME). */
  GITHUB_SERVER_URL?: string;
  /** The GitHub App's webhook secret (`wrangler secret put GITHUB_WEBHOOK_SECRET`): POST /github/webhook verifies every delivery with it; unset: 503. */
  GITHUB_WEBHOOK_SECRET?: string;
}

/** The Durable Object that owns a run. */
export function runObject(env: Env, runId: string): DurableObjectStub<RunObject> {
  return env.RUNS.get(env.RUNS.idFromName(runId));
}

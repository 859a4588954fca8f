import type { RunEnv } from '../run/env.ts';
import type { RunObject } from '../run/object.ts';

/** Bindings and secrets of the relay Worker (relay/wrangler.jsonc); read only through relay/worker/config.ts. */
export interface Env extends RunEnv {
  RUNS: DurableObjectNamespace<RunObject>;
  /** Bearer secret the action presents (`wrangler secret put RELAY_TOKEN`); may act on every run. */
  RELAY_TOKEN?: string;
  /** Key that binds callback and approval tokens to their run and gate (`wrangler secret put CALLBACK_SECRET`). */
  CALLBACK_SECRET?: string;
  /** Public origin used in callback and approval URLs; defaults to the origin the action called. */
  PUBLIC_URL?: string;
  /** Repositories whose GitHub Actions OIDC tokens are accepted: `owner/repo` or `owner/*`, comma or space separated; empty: OIDC off. */
  ALLOWED_REPOSITORIES?: string;
  /** The OIDC tokens' issuer; default `https://token.actions.githubusercontent.com`. */
  OIDC_ISSUER?: string;
  /** Where the issuer publishes its signing keys; default `<OIDC_ISSUER>/.well-known/jwks`. */
  OIDC_JWKS_URL?: string;
  /** The audience the tokens must carry; default PUBLIC_URL, else the origin the action called. */
  OIDC_AUDIENCE?: string;
}

/** The Durable Object that owns a run. */
export function runObject(env: Env, runId: string): DurableObjectStub<RunObject> {
  return env.RUNS.get(env.RUNS.idFromName(runId));
}

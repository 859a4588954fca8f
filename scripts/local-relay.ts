/**
 * The real relay on workerd (`wrangler dev`), state on disk: used by the
 * end-to-end tests, the demo, the benchmarks and `npm run relay`.
 */
import { fileURLToPath } from 'node:url';
import { startWranglerDev } from './wrangler-dev.ts';
import type { WranglerDev, WranglerDevOptions } from './wrangler-dev.ts';

export { freePort } from './wrangler-dev.ts';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Development defaults; a deployed relay gets real secrets with `wrangler secret put`. */
export const DEV_RELAY_TOKEN = 'hookgate-dev-relay-token';
export const DEV_CALLBACK_SECRET = 'hookgate-dev-callback-secret';

export interface LocalRelayOptions extends Pick<WranglerDevOptions, 'port' | 'output' | 'onFailure'> {
  /** Directory for the Durable Objects' SQLite state; reuse it to restart on the same state. */
  stateDir: string;
  relayToken?: string;
  callbackSecret?: string;
  /** More of the relay's vars, e.g. OIDC_ISSUER, OIDC_JWKS_URL and ALLOWED_REPOSITORIES. */
  vars?: Record<string, string>;
}

export interface LocalRelay extends WranglerDev {
  relayToken: string;
}

/** Starts `wrangler dev` and resolves once the relay answers /healthz; a workerd crash restarts it (wrangler-dev.ts). */
export async function startLocalRelay(options: LocalRelayOptions): Promise<LocalRelay> {
  const relayToken = options.relayToken ?? DEV_RELAY_TOKEN;
  const worker = await startWranglerDev({
    config: `${ROOT}relay/wrangler.jsonc`,
    stateDir: options.stateDir,
    readyPath: '/healthz',
    vars: { RELAY_TOKEN: relayToken, CALLBACK_SECRET: options.callbackSecret ?? DEV_CALLBACK_SECRET, ...options.vars },
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.output === undefined ? {} : { output: options.output }),
    ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
  });
  return { ...worker, relayToken };
}

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

/** The relay's secrets: passed through a file, never on wrangler's command line (wrangler-dev.ts). */
const SECRET_NAMES = new Set(['RELAY_TOKEN', 'CALLBACK_SECRET', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_CLIENT_SECRET', 'GITHUB_WEBHOOK_SECRET']);

/** Every variable the relay reads (relay/wrangler.jsonc, its secrets), as `npm run relay` passes them on. */
export const RELAY_VARIABLES = [
  'RELAY_TOKEN',
  'CALLBACK_SECRET',
  'PUBLIC_URL',
  'ALLOWED_REPOSITORIES',
  'RETENTION_DAYS',
  'GITHUB_APP_ID',
  'GITHUB_APP_PRIVATE_KEY',
  'GITHUB_API_URL',
  'RESUME_RETRY_SECONDS',
  'GITHUB_APP_CLIENT_ID',
  'GITHUB_APP_CLIENT_SECRET',
  'GITHUB_SERVER_URL',
  'GITHUB_WEBHOOK_SECRET',
] as const;

/** The relay's variables set in `env`: those of RELAY_VARIABLES and every OIDC_* one. */
export function relayVariablesIn(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = Object.keys(env).filter((name) => (RELAY_VARIABLES as readonly string[]).includes(name) || /^OIDC_[A-Z_]+$/.test(name));
  return Object.fromEntries(names.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])));
}

export interface LocalRelayOptions extends Pick<WranglerDevOptions, 'port' | 'output' | 'onFailure'> {
  /** Directory for the Durable Objects' SQLite state; reuse it to restart on the same state. */
  stateDir: string;
  relayToken?: string;
  callbackSecret?: string;
  /**
   * More of the relay's vars, e.g. OIDC_ISSUER, ALLOWED_REPOSITORIES, GITHUB_APP_ID and
   * GITHUB_APP_PRIVATE_KEY (a PEM: its lines survive), GITHUB_APP_CLIENT_ID/SECRET, GITHUB_SERVER_URL,
   * GITHUB_WEBHOOK_SECRET; secrets and multi-line values go through a file.
   */
  vars?: Record<string, string>;
}

export interface LocalRelay extends WranglerDev {
  relayToken: string;
}

/** Starts `wrangler dev` and resolves once the relay answers /healthz; a workerd crash restarts it (wrangler-dev.ts). */
export async function startLocalRelay(options: LocalRelayOptions): Promise<LocalRelay> {
  const relayToken = options.relayToken ?? DEV_RELAY_TOKEN;
  const all = { RELAY_TOKEN: relayToken, CALLBACK_SECRET: options.callbackSecret ?? DEV_CALLBACK_SECRET, ...options.vars };
  const isSecret = ([name, value]: [string, string]): boolean => SECRET_NAMES.has(name) || value.includes('\n');
  const worker = await startWranglerDev({
    config: `${ROOT}relay/wrangler.jsonc`,
    stateDir: options.stateDir,
    readyPath: '/healthz',
    vars: Object.fromEntries(Object.entries(all).filter((entry) => !isSecret(entry))),
    secrets: Object.fromEntries(Object.entries(all).filter(isSecret)),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.output === undefined ? {} : { output: options.output }),
    ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
  });
  return { ...worker, relayToken };
}

/**
 * `npm run relay`: the relay on http://127.0.0.1:8787 (PORT overrides), state kept in .hookgate-relay/.
 * Every relay variable set in its environment (RELAY_TOKEN, GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY,
 * OIDC_*, …: local-relay.ts RELAY_VARIABLES) is passed on; secrets never on a command line or in its output.
 */
import { join } from 'node:path';
import { DEV_CALLBACK_SECRET, DEV_RELAY_TOKEN, ROOT, relayVariablesIn, startLocalRelay } from './local-relay.ts';

const { RELAY_TOKEN, CALLBACK_SECRET, ...vars } = relayVariablesIn(process.env);
const starting = startLocalRelay({
  stateDir: join(ROOT, '.hookgate-relay'),
  port: Number(process.env.PORT ?? '8787'),
  relayToken: RELAY_TOKEN ?? DEV_RELAY_TOKEN,
  callbackSecret: CALLBACK_SECRET ?? DEV_CALLBACK_SECRET,
  vars,
  output: 'inherit',
  // The error is printed already; a relay that is down for good must not look like it is running.
  onFailure: () => void stopAndExit(1),
});
let stopping = false;
/** wrangler runs in its own process group, which Ctrl-C does not reach: stop it first, even mid-start. */
function stopAndExit(code: number): Promise<void> {
  stopping = true;
  return starting.then((relay) => relay.stop()).finally(() => process.exit(code));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAndExit(0));

/** What GET /healthz says of the GitHub App that resumes parked deployments, and of sign-in (shared/park.ts Health). */
async function githubAppStatus(url: string): Promise<string> {
  try {
    const health = (await (await fetch(`${url}/healthz`)).json()) as { githubApp?: unknown; message?: unknown; signIn?: unknown };
    if (typeof health.githubApp !== 'string') return 'GitHub App: unknown (this relay does not say)';
    const message = typeof health.message === 'string' && health.message ? `: ${health.message}` : '';
    const signIn = typeof health.signIn === 'string' ? `; sign-in with GitHub: ${health.signIn}` : '';
    return `GitHub App: ${health.githubApp}${message}${signIn}`;
  } catch (error) {
    return `GitHub App: unknown (${error instanceof Error ? error.message : String(error)})`;
  }
}

const relay = await starting;
if (!stopping) {
  const passed = Object.keys(relayVariablesIn(process.env)).sort();
  console.log(`hookgate relay on ${relay.url} (state in .hookgate-relay/); bearer token from RELAY_TOKEN, default '${DEV_RELAY_TOKEN}'. Ctrl-C stops it.`);
  console.log(`Relay variables from the environment: ${passed.length > 0 ? passed.join(', ') : 'none'}.`);
  console.log(`${await githubAppStatus(relay.url)}${vars.GITHUB_APP_ID ? '' : ' — set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY to resume parked deployments automatically'}.`);
}

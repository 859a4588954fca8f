/** `npm run relay`: the relay on http://127.0.0.1:8787 (PORT overrides), state kept in .hookgate-relay/. */
import { join } from 'node:path';
import { DEV_CALLBACK_SECRET, DEV_RELAY_TOKEN, ROOT, startLocalRelay } from './local-relay.ts';

const starting = startLocalRelay({
  stateDir: join(ROOT, '.hookgate-relay'),
  port: Number(process.env.PORT ?? '8787'),
  relayToken: process.env.RELAY_TOKEN ?? DEV_RELAY_TOKEN,
  callbackSecret: process.env.CALLBACK_SECRET ?? DEV_CALLBACK_SECRET,
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

const relay = await starting;
if (!stopping) console.log(`hookgate relay on ${relay.url} (state in .hookgate-relay/); bearer token from RELAY_TOKEN, default '${DEV_RELAY_TOKEN}'. Ctrl-C stops it.`);

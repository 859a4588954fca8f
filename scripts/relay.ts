/** `npm run relay`: the relay on http://127.0.0.1:8787 (PORT overrides), state kept in .hookgate-relay/. */
import { join } from 'node:path';
import { DEV_CALLBACK_SECRET, DEV_RELAY_TOKEN, ROOT, startLocalRelay } from './local-relay.ts';

const relay = await startLocalRelay({
  stateDir: join(ROOT, '.hookgate-relay'),
  port: Number(process.env.PORT ?? '8787'),
  relayToken: process.env.RELAY_TOKEN ?? DEV_RELAY_TOKEN,
  callbackSecret: process.env.CALLBACK_SECRET ?? DEV_CALLBACK_SECRET,
  output: 'inherit',
});
console.log(`hookgate relay on ${relay.url} (state in .hookgate-relay/); bearer token from RELAY_TOKEN, default '${DEV_RELAY_TOKEN}'. Ctrl-C stops it.`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void relay.stop().then(() => process.exit(0)));
}

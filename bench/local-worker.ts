/**
 * The trivial Worker under its own `wrangler dev`: the same launcher, wrangler,
 * workerd binary and flags the relay gets (scripts/local-relay.ts).
 */
import { fileURLToPath } from 'node:url';
import { startWranglerDev } from '../scripts/wrangler-dev.ts';
import type { WranglerDev } from '../scripts/wrangler-dev.ts';

export type LocalWorker = WranglerDev;

const CONFIG = fileURLToPath(new URL('./trivial-worker/wrangler.jsonc', import.meta.url));

/** Starts the trivial Worker and resolves once it answers. */
export function startTrivialWorker(stateDir: string): Promise<LocalWorker> {
  return startWranglerDev({ config: CONFIG, stateDir, readyPath: '/' });
}

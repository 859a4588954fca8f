/**
 * The e2e project's globalSetup: one relay for the test files that need nothing of their own
 * (they do not kill it, set other vars or read its state directory), as a wrangler dev start costs
 * 5–8 s of two busy cores. Its start is not awaited here, so the other projects' tests begin at
 * once; `startHarness` waits until it answers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { DEV_RELAY_TOKEN, freePort, startLocalRelay } from '../../scripts/local-relay.ts';

export interface SharedRelay {
  url: string;
  port: number;
  relayToken: string;
  stateDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    sharedRelay: SharedRelay;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = await mkdtemp(join(tmpdir(), 'hookgate-shared-relay-'));
  const port = await freePort();
  const starting = startLocalRelay({ stateDir, port });
  // The tests that use it fail waiting for it; this says why.
  starting.catch((error: unknown) => console.error(`hookgate: the e2e tests' shared relay did not start: ${String(error)}`));
  project.provide('sharedRelay', { url: `http://127.0.0.1:${port}`, port, relayToken: DEV_RELAY_TOKEN, stateDir });
  return async () => {
    const relay = await starting.catch(() => null);
    await relay?.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
}

/**
 * The trivial Worker under its own `wrangler dev` (same wrangler, same workerd
 * binary and flags as test/support/local-relay.ts uses for the relay), in its
 * own process group so it stops with everything it started.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ROOT, freePort } from '../test/support/local-relay.ts';
import { sleep } from './stats.ts';

export interface LocalWorker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const CONFIG = fileURLToPath(new URL('./trivial-worker/wrangler.jsonc', import.meta.url));

/** Starts the trivial Worker and resolves once it answers. */
export async function startTrivialWorker(stateDir: string): Promise<LocalWorker> {
  const port = await freePort();
  // Its own inspector port: wrangler's default (9229, or the next free one) races with another wrangler dev starting.
  const inspectorPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      `${ROOT}node_modules/wrangler/bin/wrangler.js`,
      'dev',
      '--config',
      CONFIG,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--persist-to',
      stateDir,
      '--inspector-port',
      String(inspectorPort),
      '--show-interactive-dev-session=false',
      '--log-level',
      'warn',
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: 'ignore',
      env: {
        ...process.env,
        // As for the relay: no Request.cf download, no telemetry, no public host.
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_LOG_SANITIZE: 'true',
        NO_COLOR: '1',
      },
    },
  );
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.pid === undefined) return;
    const group = -child.pid;
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      return;
    }
    const killer = setTimeout(() => signalGroup(group, 'SIGKILL'), 5000);
    await exited.catch(() => undefined);
    clearTimeout(killer);
    for (let i = 0; i < 100 && signalGroup(group, 0); i++) await sleep(50);
    signalGroup(group, 'SIGKILL');
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev (trivial worker) exited with ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return { url, port, stop };
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the trivial worker did not answer ${url} within 60 s`);
    }
    await sleep(150);
  }
}

/** Sends `signal` to a process group; false when the group is gone. */
function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(group, signal);
    return true;
  } catch {
    return false;
  }
}

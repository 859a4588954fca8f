/** A child started in its own process group (`detached`), so it and everything it spawned stop together. */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Signals the child's whole group and waits until every process of it is gone (SIGKILL after 5 s). */
export async function stopGroup(child: ChildProcess, exited: Promise<unknown>, signal: NodeJS.Signals): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  if (!signalGroup(pgid, signal)) return; // already gone
  const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), 5000);
  await exited.catch(() => undefined);
  clearTimeout(timer);
  // workerd may outlive wrangler by a moment; wait until the group is empty.
  for (let i = 0; i < 100 && signalGroup(pgid, 0); i++) await new Promise((r) => setTimeout(r, 50));
  signalGroup(pgid, 'SIGKILL');
}

/** Sends `signal` (0: none, a liveness check) to the group; whether any process of it was there. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

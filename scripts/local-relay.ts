/**
 * The real relay on workerd (`wrangler dev`), state on disk: used by the
 * end-to-end tests, the demo, the benchmarks and `npm run relay`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Development defaults; a deployed relay gets real secrets with `wrangler secret put`. */
export const DEV_RELAY_TOKEN = 'hookgate-dev-relay-token';
export const DEV_CALLBACK_SECRET = 'hookgate-dev-callback-secret';

export interface LocalRelayOptions {
  /** Directory for the Durable Objects' SQLite state; reuse it to restart on the same state. */
  stateDir: string;
  port?: number;
  relayToken?: string;
  callbackSecret?: string;
  /** Where wrangler's own output goes; silent by default. */
  output?: 'inherit' | 'ignore';
  /** More of the relay's vars, e.g. OIDC_ISSUER, OIDC_JWKS_URL and ALLOWED_REPOSITORIES. */
  vars?: Record<string, string>;
}

export interface LocalRelay extends WranglerDev {
  relayToken: string;
}

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

/** Starts `wrangler dev` and resolves once the relay answers /healthz. */
export async function startLocalRelay(options: LocalRelayOptions): Promise<LocalRelay> {
  const relayToken = options.relayToken ?? DEV_RELAY_TOKEN;
  const worker = await startWranglerDev({
    config: `${ROOT}relay/wrangler.jsonc`,
    stateDir: options.stateDir,
    readyPath: '/healthz',
    vars: { RELAY_TOKEN: relayToken, CALLBACK_SECRET: options.callbackSecret ?? DEV_CALLBACK_SECRET, ...options.vars },
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.output === undefined ? {} : { output: options.output }),
  });
  return { ...worker, relayToken };
}

export interface WranglerDevOptions {
  /** The Worker's wrangler.jsonc. */
  config: string;
  stateDir: string;
  /** A GET that answers 2xx once the Worker is up. */
  readyPath: string;
  port?: number;
  vars?: Record<string, string>;
  output?: 'inherit' | 'ignore';
}

export interface WranglerDev {
  url: string;
  port: number;
  /** Stops it and waits until its processes are gone. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

/**
 * `wrangler dev` for any Worker of this repository, in its own process group (so
 * workerd goes down with it), never calling a public host; resolves once `readyPath` answers.
 */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const port = options.port ?? (await freePort());
  // Its own inspector port: wrangler's default (9229, or the next free one) races with another wrangler dev starting.
  const inspectorPort = await freePort();
  const vars = Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
  const child = spawn(
    process.execPath,
    [
      `${ROOT}node_modules/wrangler/bin/wrangler.js`,
      'dev',
      '--config',
      options.config,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--persist-to',
      options.stateDir,
      '--inspector-port',
      String(inspectorPort),
      ...vars,
      '--show-interactive-dev-session=false',
      '--log-level',
      options.output === 'inherit' ? 'info' : 'warn',
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', options.output ?? 'ignore', options.output ?? 'ignore'],
      env: {
        ...process.env,
        // No calls to public hosts: no Request.cf download, no telemetry.
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_LOG_SANITIZE: 'true',
        NO_COLOR: '1',
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  const worker: WranglerDev = {
    url,
    port,
    stop: () => stopGroup(child, 'SIGTERM', exited),
    kill: () => stopGroup(child, 'SIGKILL', exited),
  };
  try {
    await waitForReady(`${url}${options.readyPath}`, child);
  } catch (error) {
    await worker.kill();
    throw error;
  }
  return worker;
}

async function waitForReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode} before ${url} answered`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`wrangler dev did not answer ${url} within 60 s`);
}

async function stopGroup(child: ChildProcess, signal: NodeJS.Signals, exited: Promise<unknown>): Promise<void> {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      // gone
    }
  }, 5000);
  await exited.catch(() => undefined);
  clearTimeout(timer);
  // workerd may outlive wrangler by a moment; wait until the group is empty.
  for (let i = 0; i < 100 && groupAlive(child.pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

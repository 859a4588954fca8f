/**
 * `wrangler dev` for any Worker of this repository, supervised. When workerd alone crashes,
 * wrangler restarts it and says "ready", yet requests then hang forever; so after wrangler reports
 * a runtime crash the Worker must answer its health check, or wrangler dev is started again on
 * the same port and state. A relay that cannot be brought back fails loudly (stderr and `onFailure`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopGroup } from './process-group.ts';

export { freePort } from './process-group.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** wrangler's warning when workerd died under it (wrangler 4); the crash test breaks if a version rewords it. */
const RUNTIME_CRASHED = /Workers runtime crashed unexpectedly/;
/** How long a runtime that wrangler restarted may take to answer before wrangler dev is started again. */
const RECOVERY_MS = 5_000;
const READY_MS = 60_000;

export interface WranglerDevOptions {
  /** The Worker's wrangler.jsonc. */
  config: string;
  /** Directory for the Durable Objects' SQLite state; a restart keeps it. */
  stateDir: string;
  /** A GET that answers 2xx once the Worker is up. */
  readyPath: string;
  port?: number;
  vars?: Record<string, string>;
  /**
   * Vars kept off the command line (which any local user can read in `ps`) and out of wrangler's
   * output: written to an env file in `stateDir` (mode 600, removed at stop) passed with `--env-file`.
   * A value may span lines (a PEM key).
   */
  secrets?: Record<string, string>;
  /** Where wrangler's own output goes; silent by default. */
  output?: 'inherit' | 'ignore';
  /** The Worker is down for good (a restart failed, or wrangler exited by itself); also printed to stderr. */
  onFailure?: (error: Error) => void;
}

export interface WranglerDev {
  url: string;
  port: number;
  /** Stops it and waits until its processes are gone. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), as a crash would; nothing restarts it. */
  kill(): Promise<void>;
}

interface Instance {
  child: ChildProcess;
  exited: Promise<unknown>;
}

/** Starts `wrangler dev` on `port` (a free one by default); resolves once `readyPath` answers. */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let ending = false;
  let recovering: Promise<void> | null = null;
  const fail = (error: Error): void => {
    console.error(`hookgate: ${error.message}`);
    options.onFailure?.(error);
  };
  const supervise = (instance: Instance): Instance => {
    watchLines(instance.child, options.output, (line) => {
      if (ending || recovering || !RUNTIME_CRASHED.test(line)) return;
      recovering = recover(instance).finally(() => (recovering = null));
    });
    void instance.exited.then(() => {
      if (!ending && !recovering && current === instance) fail(new Error(`wrangler dev for ${url} exited by itself`));
    });
    return instance;
  };
  const recover = async (crashed: Instance): Promise<void> => {
    if (await answers(`${url}${options.readyPath}`, RECOVERY_MS)) return;
    console.error(`hookgate: workerd crashed and ${url} no longer answers: restarting wrangler dev on the same state`);
    await stopGroup(crashed.child, crashed.exited, 'SIGKILL');
    if (ending) return;
    try {
      current = supervise(await launch(options, port));
    } catch (error) {
      fail(new Error(`could not restart wrangler dev for ${url}: ${error instanceof Error ? error.message : String(error)}`));
    }
  };
  const secretsFile = await writeSecrets(options);
  let current: Instance;
  try {
    current = supervise(await launch(options, port));
  } catch (error) {
    if (secretsFile) await rm(secretsFile, { force: true });
    throw error;
  }
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    ending = true;
    await recovering;
    await stopGroup(current.child, current.exited, signal);
    if (secretsFile) await rm(secretsFile, { force: true });
  };
  return { url, port, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

const SECRETS_FILE = '.hookgate-secrets.env';

/** Writes `options.secrets` as a dotenv file in the state dir; its path, or null without secrets. */
async function writeSecrets(options: WranglerDevOptions): Promise<string | null> {
  const entries = Object.entries(options.secrets ?? {});
  if (entries.length === 0) return null;
  const lines = entries.map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`secret ${name}: not a variable name`);
    // wrangler expands `$NAME` in every value (dotenv-expand) and reads escapes inside double quotes:
    // a value holding either would reach the relay changed, so it is refused rather than altered.
    if (/[$\\]/.test(value)) throw new Error(`secret ${name}: a value holding $ or \\ cannot be passed to wrangler dev unchanged`);
    // dotenv keeps a quoted value verbatim, newlines included; the quote must not occur in it.
    const quote = ["'", '`', '"'].find((q) => !value.includes(q));
    if (!quote) throw new Error(`secret ${name}: a value holding all of " ' and \` cannot be passed to wrangler dev`);
    return `${name}=${quote}${value}${quote}`;
  });
  const file = join(options.stateDir, SECRETS_FILE);
  await mkdir(options.stateDir, { recursive: true });
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

/** One `wrangler dev` process group, never calling a public host; resolves once `readyPath` answers. */
async function launch(options: WranglerDevOptions, port: number): Promise<Instance> {
  // Its own inspector port: wrangler's default (9229, or the next free one) races with another wrangler dev starting.
  const inspectorPort = await freePort();
  const vars = Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
  const args = ['dev', '--config', options.config, '--ip', '127.0.0.1', '--port', String(port), '--persist-to', options.stateDir];
  args.push('--inspector-port', String(inspectorPort), ...vars, '--show-interactive-dev-session=false');
  if (options.secrets && Object.keys(options.secrets).length > 0) args.push('--env-file', join(options.stateDir, SECRETS_FILE));
  args.push('--log-level', options.output === 'inherit' ? 'info' : 'warn');
  const child = spawn(process.execPath, [`${ROOT}node_modules/wrangler/bin/wrangler.js`, ...args], {
    cwd: ROOT,
    // Its own process group, so workerd goes down with it.
    detached: true,
    // Piped even when silent: the supervisor reads wrangler's warnings.
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // No calls to public hosts: no Request.cf download, no telemetry.
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_LOG_SANITIZE: 'true',
      NO_COLOR: '1',
    },
  });
  const instance = { child, exited: once(child, 'exit') };
  try {
    await waitForReady(`http://127.0.0.1:${port}${options.readyPath}`, child);
  } catch (error) {
    await stopGroup(child, instance.exited, 'SIGKILL');
    throw error;
  }
  return instance;
}

/** Calls `onLine` with each line wrangler prints, and passes its output on when `output` is 'inherit'. */
function watchLines(child: ChildProcess, output: WranglerDevOptions['output'], onLine: (line: string) => void): void {
  for (const [stream, sink] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    let partial = '';
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      if (output === 'inherit') sink.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
  }
}

async function waitForReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode} before ${url} answered`);
    if (await answers(url, 2000)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`wrangler dev did not answer ${url} within ${READY_MS / 1000} s`);
}

/** Whether `url` answers 2xx within `withinMs`, asking again while it refuses connections. */
async function answers(url: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  do {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, Math.min(2000, deadline - Date.now()))) });
      await response.arrayBuffer();
      if (response.ok) return true;
    } catch {
      // not answering (yet)
    }
    await new Promise((r) => setTimeout(r, 150));
  } while (Date.now() < deadline);
  return false;
}

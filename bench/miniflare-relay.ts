/**
 * The relay closer to production: bundled as `wrangler deploy` bundles it (`--dry-run --outdir`,
 * the upload itself), then served by Miniflare's API in a process of its own
 * (bench/miniflare-serve.ts): the same workerd and SQLite-backed Durable Objects as `wrangler dev`,
 * minus wrangler's proxy Worker. Miniflare's own entry Worker still sits in front of the relay.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_CALLBACK_SECRET, DEV_RELAY_TOKEN, ROOT } from '../scripts/local-relay.ts';
import { stopGroup } from '../scripts/process-group.ts';

export interface MiniflareWorker {
  url: string;
  port: number;
  /** Size of the bundle `wrangler deploy` would upload (bytes, before compression). */
  bundleBytes: number;
  stop(): Promise<void>;
}

export interface MiniflareRelay extends MiniflareWorker {
  relayToken: string;
}

const RELAY_CONFIG = join(ROOT, 'relay', 'wrangler.jsonc');
const TRIVIAL_CONFIG = join(ROOT, 'bench', 'trivial-worker', 'wrangler.jsonc');

export interface WorkerConfig {
  name: string;
  compatibility_date: string;
  compatibility_flags?: string[];
  vars?: Record<string, string>;
  durable_objects?: { bindings: { name: string; class_name: string }[] };
  migrations?: { new_sqlite_classes?: string[] }[];
}

/** A wrangler.jsonc without its comments: the same date, flags, vars and Durable Objects a deployment gets. */
export async function workerConfig(path: string): Promise<WorkerConfig> {
  const source = await readFile(path, 'utf8');
  // Line comments only start after whitespace in these files; URLs inside strings ("https://…") are kept.
  return JSON.parse(source.replace(/(^|\s)\/\/.*$/gm, '$1')) as WorkerConfig;
}

/** The config's Durable Object bindings, SQLite-backed where its migrations say so. */
export function durableObjects(config: WorkerConfig): Record<string, { className: string; useSQLite: boolean }> {
  const sqlite = new Set((config.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
  const bindings = config.durable_objects?.bindings ?? [];
  return Object.fromEntries(bindings.map((b) => [b.name, { className: b.class_name, useSQLite: sqlite.has(b.class_name) }]));
}

const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const READY_MS = 60_000;

/** `wrangler deploy --dry-run --outdir`: the Worker bundle a deployment uploads; never contacts Cloudflare. */
export async function bundleWorker(config: string, outDir: string): Promise<string> {
  const child = spawn(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', outDir, '--config', config], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
  });
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (exit ${code}):\n${errors.slice(-2000)}`);
  return join(outDir, 'index.js');
}

/** Bundles the relay and serves it under Miniflare on state in `stateDir`; resolves once /healthz answers. */
export async function startMiniflareRelay(stateDir: string, vars: Record<string, string> = {}): Promise<MiniflareRelay> {
  const relayToken = vars.RELAY_TOKEN ?? DEV_RELAY_TOKEN;
  const worker = await startMiniflareWorker(RELAY_CONFIG, stateDir, '/healthz', { RELAY_TOKEN: relayToken, CALLBACK_SECRET: DEV_CALLBACK_SECRET, ...vars });
  return { ...worker, relayToken };
}

/** The trivial Worker (bench/trivial-worker) under Miniflare: the yardstick beside the relay there. */
export function startMiniflareTrivial(stateDir: string): Promise<MiniflareWorker> {
  return startMiniflareWorker(TRIVIAL_CONFIG, stateDir, '/', {});
}

async function startMiniflareWorker(config: string, stateDir: string, readyPath: string, vars: Record<string, string>): Promise<MiniflareWorker> {
  const bundleDir = await mkdtemp(join(tmpdir(), 'hookgate-bench-bundle-'));
  const cleanup = (): Promise<void> => rm(bundleDir, { recursive: true, force: true });
  try {
    const script = await bundleWorker(config, bundleDir);
    const bundleBytes = (await stat(script)).size;
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'miniflare-serve.ts'), config, bundleDir, stateDir], {
      cwd: ROOT,
      // Its own process group: workerd goes down with it, and its CPU is counted apart from the bench's.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    const exited = once(child, 'exit');
    child.stdin.end(JSON.stringify(vars));
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors = (errors + chunk).slice(-4000)));
    const stop = async (): Promise<void> => {
      await stopGroup(child, exited, 'SIGTERM');
      await cleanup();
    };
    try {
      const url = await readyUrl(child.stdout, exited, () => errors);
      const health = await fetch(`${url}${readyPath}`);
      await health.arrayBuffer();
      if (!health.ok) throw new Error(`${config} under Miniflare answered ${readyPath} with ${health.status}`);
      return { url, port: Number(new URL(url).port), bundleBytes, stop };
    } catch (error) {
      await stop();
      throw error;
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** The `{"url"}` line miniflare-serve prints once ready. */
async function readyUrl(stdout: NodeJS.ReadableStream, exited: Promise<unknown>, errors: () => string): Promise<string> {
  let buffer = '';
  const line = new Promise<string>((resolve) => {
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => {
      buffer += chunk;
      // Miniflare may log to stdout too: the ready line is the one JSON object.
      const ready = buffer.split('\n').find((text) => text.startsWith('{"url"'));
      if (ready) resolve(ready);
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Miniflare did not start within ${READY_MS / 1000} s:\n${errors()}`)), READY_MS);
  });
  const died = exited.then(() => {
    throw new Error(`miniflare-serve exited before it was ready:\n${errors()}`);
  });
  try {
    const first = await Promise.race([line, timeout, died]);
    return (JSON.parse(first) as { url: string }).url;
  } finally {
    clearTimeout(timer);
  }
}

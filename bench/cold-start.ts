/**
 * Action cold start: from spawning `node dist/index.js` (as the runner does, with
 * INPUT_* variables) to the first request reaching a tiny HTTP server that poses
 * as the relay; beside the floor of the same Node binary spawning a script that
 * only sends one request. Also the size of dist/.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../scripts/local-relay.ts';
import { distribution } from './stats.ts';
import type { Distribution } from './stats.ts';

export interface ColdStart {
  runs: number;
  /** spawn → first relay request, `node dist/index.js`. */
  action: Distribution;
  /** spawn → first request, `node -e "fetch(…)"`: what any Node action pays. */
  nodeFloor: Distribution;
  /** The path of the first request the action sent. */
  firstRequest: string;
}

/**
 * Which part of the action a file of dist/ is: loaded at start (index.js and what it imports
 * statically), loaded on demand (dynamic imports: OIDC, GitHub), the post step, or not the action's
 * at all (the CLI, `hookgate`, and the deployment file's JSON schema, which `npm run build:cli` writes).
 */
export type DistPart = 'start' | 'on demand' | 'post' | 'cli' | 'schema';

export interface DistSize {
  /** What the action can load: index.js, post.js and every chunk (the goal's figure). */
  totalBytes: number;
  /** Of which index.js with its static imports: what every run loads. */
  startBytes?: number;
  /** dist/cli.js and dist/deploy.schema.json, apart (the runner never loads them). */
  cliBytes?: number;
  files: { path: string; bytes: number; part?: DistPart }[];
}

/** One webhook gate before deployment: the first relay request is its registration. */
const DEPLOY_YML = `version: v1
application: cold-start
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Check }
webhooks:
  - name: Check
    uriTemplate: http://127.0.0.1:9/never-called
    bodyTemplate: { inline: '{"callbackUri": "{{armory.callbackUri}}"}' }
`;

/** The runner's environment for the main step (as scripts/run-action.ts builds it). */
function runnerEnv(workspace: string, relayUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? workspace,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/potato-facts',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: String(Date.now()),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_OUTPUT: join(workspace, 'output'),
    GITHUB_STEP_SUMMARY: join(workspace, 'summary'),
    GITHUB_STATE: join(workspace, 'state'),
    RUNNER_TEMP: workspace,
    INPUT_CONFIG: 'deploy.yml',
    'INPUT_RELAY-URL': relayUrl,
    'INPUT_RELAY-TOKEN': 'cold-start-token',
  };
}

/** Spawns `args` and resolves with the ms until the fake relay saw a request. */
async function timeToFirstRequest(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  server: { next(): Promise<{ at: number; path: string }> },
): Promise<{ ms: number; path: string }> {
  const arrival = server.next();
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd, env, stdio: 'ignore' });
  const exited = once(child, 'exit');
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no request within 10 s from ${args.join(' ')}`)), 10_000));
  try {
    const first = await Promise.race([arrival, timeout]);
    return { ms: first.at - started, path: first.path };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/** `entry`: another build of the action to time (default dist/index.js, what the runner runs). */
export async function measureColdStart(runs = 15, entry = join(ROOT, 'dist', 'index.js')): Promise<ColdStart> {
  const workspace = await mkdtemp(join(tmpdir(), 'hookgate-bench-cold-'));
  const waiting: ((hit: { at: number; path: string }) => void)[] = [];
  const server = createServer((request, response) => {
    const at = performance.now();
    waiting.shift()?.({ at, path: `${request.method} ${request.url?.split('?')[0]}` });
    request.resume();
    response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"bench","message":"cold start only"}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${address.port}`;
  const fake = { next: () => new Promise<{ at: number; path: string }>((resolve) => waiting.push(resolve)) };
  try {
    await writeFile(join(workspace, 'deploy.yml'), DEPLOY_YML);
    await Promise.all(['output', 'summary', 'state'].map((f) => writeFile(join(workspace, f), '')));
    const env = runnerEnv(workspace, url);
    const action = [entry];
    const floor = ['-e', `fetch(${JSON.stringify(`${url}/floor`)}).catch(() => {})`];
    // One of each first, unmeasured: the file cache is warm on a runner that just checked out.
    await timeToFirstRequest(action, env, workspace, fake);
    await timeToFirstRequest(floor, env, workspace, fake);
    const actionMs: number[] = [];
    const floorMs: number[] = [];
    let firstRequest = '';
    for (let i = 0; i < runs; i++) {
      const hit = await timeToFirstRequest(action, env, workspace, fake);
      actionMs.push(hit.ms);
      firstRequest = hit.path;
      floorMs.push((await timeToFirstRequest(floor, env, workspace, fake)).ms);
    }
    return { runs, action: distribution(actionMs), nodeFloor: distribution(floorMs), firstRequest };
  } finally {
    server.closeAllConnections();
    server.close();
    await rm(workspace, { recursive: true, force: true });
  }
}

/** The relative imports of a bundled file: `from"./x.js"` and `import"./x.js"` (static), `import("./x.js")` (dynamic). */
function importsOf(source: string): { fixed: string[]; lazy: string[] } {
  const fixed = [...source.matchAll(/(?:from|import)\s*["'](\.\.?\/[^"']+)["']/g)].map((m) => m[1] as string);
  const lazy = [...source.matchAll(/import\(\s*["'](\.\.?\/[^"']+)["']\s*\)/g)].map((m) => m[1] as string);
  return { fixed, lazy };
}

/** Each file reachable from `entry`: static imports take the entry's part, dynamic ones become 'on demand'. */
async function classify(entry: string, part: DistPart, parts: Map<string, DistPart>): Promise<void> {
  const queue: [string, DistPart][] = [[entry, part]];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [path, as] = next;
    const known = parts.get(path);
    // 'start' wins over 'on demand', and the action's parts over the post step's.
    if (known === 'start' || known === as || (known === 'on demand' && as === 'post')) continue;
    parts.set(path, as);
    const { fixed, lazy } = importsOf(await readFile(path, 'utf8'));
    for (const spec of fixed) queue.push([join(dirname(path), spec), as]);
    for (const spec of lazy) queue.push([join(dirname(path), spec), 'on demand']);
  }
}

export async function measureDistSize(): Promise<DistSize> {
  const dist = join(ROOT, 'dist');
  const parts = new Map<string, DistPart>();
  await classify(join(dist, 'index.js'), 'start', parts);
  await classify(join(dist, 'post.js'), 'post', parts);
  const files: { path: string; bytes: number; part: DistPart }[] = [];
  for (const entry of await readdir(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    // A file neither entry reaches: the CLI's, or the schema it writes beside it.
    const part = parts.get(path) ?? (entry.name.endsWith('.json') ? 'schema' : 'cli');
    files.push({ path: relative(ROOT, path), bytes: (await stat(path)).size, part });
  }
  files.sort((a, b) => b.bytes - a.bytes);
  const sum = (keep: (part: DistPart) => boolean): number => files.filter((f) => keep(f.part)).reduce((total, f) => total + f.bytes, 0);
  return {
    totalBytes: sum((part) => part === 'start' || part === 'on demand' || part === 'post'),
    startBytes: sum((part) => part === 'start'),
    cliBytes: sum((part) => part === 'cli' || part === 'schema'),
    files,
  };
}

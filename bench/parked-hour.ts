/**
 * Relay requests per parked hour from the runner: the action (`node dist/index.js`, as the runner
 * starts it) reaches the relay only through a loopback proxy that counts every request with its
 * time. Its one gate is never decided, so it parks after `park-after`; the proxy then counts what
 * still arrives over a parked window, scaled to an hour. The goal is 0: the process has exited and
 * left nothing behind (checked in /proc: no process has the job's workspace as its directory).
 */
import { once } from 'node:events';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExternalSystem } from '../scripts/external-system.ts';
import type { LocalRelay } from '../scripts/local-relay.ts';
import { startAction } from '../scripts/run-action.ts';
import { onCleanup } from './processes.ts';

export interface ParkedHour {
  /** Spawn → the action exited parked, ms. */
  exitedAfterMs: number;
  /** Relay requests the job made before it exited (register, wait, park, …). */
  requestsBeforeExit: number;
  windowSeconds: number;
  /** Relay requests from the runner's side within the parked window. */
  requestsAfterExit: number;
  perHour: number;
  /** Processes left with the job's workspace as their directory. */
  processesLeft: number;
}

/** A proxy in front of `target` that records when each request arrived. */
async function countingProxy(target: URL): Promise<{ url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request, response) => {
    arrivals.push(performance.now());
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers, agent }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(async () => {
    server.closeAllConnections();
    server.close();
    agent.destroy();
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, arrivals };
}

async function processesIn(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir('/proc')) {
    if (/^\d+$/.test(entry) && (await readlink(`/proc/${entry}/cwd`).catch(() => '')) === dir) count += 1;
  }
  return count;
}

/** Runs one job until it parks, then counts the runner's relay requests over `windowSeconds`. */
export async function measureParkedHour(relay: LocalRelay, windowSeconds: number, say: (line: string) => void): Promise<ParkedHour> {
  const proxy = await countingProxy(new URL(relay.url));
  const external = await startExternalSystem();
  onCleanup(() => external.close());
  const workspace = await mkdtemp(join(tmpdir(), 'hookgate-bench-parked-'));
  onCleanup(() => rm(workspace, { recursive: true, force: true }));
  await writeFile(
    join(workspace, 'deploy.yml'),
    `targets:
  prod:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Never }
webhooks:
  - name: Never
    uriTemplate: "${external.url}/hooks/never?decision=none"
    bodyTemplate: { inline: '{"callbackUri": "{{armory.callbackUri}}/callback"}' }
`,
  );
  const spawned = performance.now();
  const action = await startAction({ workspace, inputs: { 'relay-url': proxy.url, 'relay-token': relay.relayToken, 'park-after': '1s' } });
  const run = await action.done;
  const exited = performance.now();
  if (run.outputs.result !== 'parked') throw new Error(`the job did not park (result ${run.outputs.result ?? 'none'}):\n${run.stdout}\n${run.stderr}`);
  const requestsBeforeExit = proxy.arrivals.length;
  say(`park: the job exited parked after ${((exited - spawned) / 1000).toFixed(1)} s; counting the runner's relay requests for ${windowSeconds} s`);
  await new Promise((r) => setTimeout(r, windowSeconds * 1000));
  const requestsAfterExit = proxy.arrivals.filter((at) => at > exited).length;
  return {
    exitedAfterMs: exited - spawned,
    requestsBeforeExit,
    windowSeconds,
    requestsAfterExit,
    perHour: Math.round((requestsAfterExit * 3600) / windowSeconds),
    processesLeft: await processesIn(workspace),
  };
}

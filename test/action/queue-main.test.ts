/**
 * The deploy queue in the main and post steps as the runner runs them: inputs and GITHUB_* set,
 * outputs and state in the runner's files, the relay over HTTP (the in-memory relay for gates, a
 * scripted queue for /v1/queue/*).
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../action/main.ts';
import type { QueueView } from '../../shared/queue.ts';
import { FakeRelay } from './effects/fake-relay.ts';
import { FakeClock } from './fakes.ts';

const HOLDER = { runId: 'octo/app/41', attempt: 1, runUrl: 'https://github.com/octo/app/actions/runs/41', since: 0 };

let relay: FakeRelay;
let served: { url: string; close: () => Promise<void> };
let front: Server;
let dir: string;
let stdout: string[];
let saved: NodeJS.ProcessEnv;
/** What the queue routes were asked, as `<route> <body>`, and how `enter` answers (status, body). */
let queueCalls: { route: string; body: Record<string, unknown> }[];
let enterAnswer: { status: number; body: unknown };

const deployFile = (strategy: string | null): string => `
${strategy ? `deploymentConfig: { ifDeploymentInProgress: { strategy: ${strategy} } }` : ''}
commands:
  deploy: touch deployed
targets:
  staging: {}
  prod: { constraints: { dependsOn: [staging] } }
`;

beforeEach(async () => {
  saved = { ...process.env };
  dir = mkdtempSync(join(tmpdir(), 'hookgate-queue-main-'));
  relay = new FakeRelay(new FakeClock(Date.now()));
  served = await relay.serve();
  queueCalls = [];
  enterAnswer = { status: 200, body: { position: 'holding', holder: null, replacedBy: null } satisfies QueueView };
  front = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const route = /^\/v1\/queue\/(\w+)$/.exec(req.url ?? '')?.[1];
      if (route) {
        queueCalls.push({ route, body: JSON.parse(text) as Record<string, unknown> });
        const answer = route === 'enter' ? enterAnswer : { status: 200, body: { position: 'gone', holder: null, replacedBy: null } };
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
        return;
      }
      // Everything else is the in-memory relay's.
      void fetch(`${served.url}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers: { 'content-type': 'application/json' }, body: text || null }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
      });
    });
  }).listen(0, '127.0.0.1');
  await once(front, 'listening');
  for (const file of ['state', 'output']) writeFileSync(join(dir, file), '');
  for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_') || name.startsWith('STATE_')) Reflect.deleteProperty(process.env, name);
  Object.assign(process.env, {
    'INPUT_RELAY-URL': `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    'INPUT_RELAY-TOKEN': 'relay-token',
    GITHUB_WORKSPACE: dir,
    GITHUB_REPOSITORY: 'octo/app',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_OUTPUT: join(dir, 'output'),
  });
  delete process.env.GITHUB_STEP_SUMMARY;
  delete process.env.GITHUB_EVENT_PATH;
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  process.exitCode = undefined;
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.env = saved;
  process.exitCode = undefined;
  await served.close();
  front.closeAllConnections();
  await new Promise((resolve) => front.close(resolve));
});

const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
const output = (name: string): string | undefined => new RegExp(`^${name}<<(.+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(read('output'))?.[2];

describe('the main step with ifDeploymentInProgress', () => {
  it('enters with every target of the file, deploys, and leaves at its end', async () => {
    writeFileSync(join(dir, 'deploy.yml'), deployFile('reject'));
    await run();
    expect(output('result')).toBe('succeeded');
    expect(queueCalls.map((c) => c.route)).toEqual(['enter', 'leave']);
    expect(queueCalls[0]?.body).toMatchObject({ repository: 'octo/app', application: 'app', runId: 'octo/app/42', strategy: 'reject', targets: ['staging', 'prod'] });
    expect(queueCalls[1]?.body).toEqual({ repository: 'octo/app', application: 'app', runId: 'octo/app/42' });
    expect(read('state')).toContain('{"repository":"octo/app","application":"app"}');
  });

  it('leaves with its target in a job per environment', async () => {
    writeFileSync(join(dir, 'deploy.yml'), deployFile('enqueueOne'));
    process.env.INPUT_TARGET = 'staging';
    await run();
    expect(output('result')).toBe('succeeded');
    expect(queueCalls[0]?.body).toMatchObject({ targets: ['staging', 'prod'] });
    expect(queueCalls[1]?.body).toEqual({ repository: 'octo/app', application: 'app', runId: 'octo/app/42', target: 'staging' });
  });

  it('fails at start when another deployment holds the application (reject): nothing runs', async () => {
    writeFileSync(join(dir, 'deploy.yml'), deployFile('reject'));
    enterAnswer = { status: 200, body: { position: 'rejected', holder: HOLDER, replacedBy: null } satisfies QueueView };
    await run();
    expect(process.exitCode).toBe(1);
    expect(output('result')).toBe('failed');
    expect(stdout.join('')).toContain(
      `::error::deployment failed: deployment of app rejected: octo/app/41 is in progress (${HOLDER.runUrl}) (deploymentConfig.ifDeploymentInProgress.strategy: reject)`,
    );
    expect(relay.requests.filter((r) => r.path === '/v1/runs/targets')).toEqual([]);
    expect(queueCalls.map((c) => c.route)).toEqual(['enter']);
  });

  it('fails naming the relay update when the relay has no queue (404)', async () => {
    writeFileSync(join(dir, 'deploy.yml'), deployFile('enqueueOne'));
    enterAnswer = { status: 404, body: { error: 'not_found', message: 'no route for POST /v1/queue/enter' } };
    await run();
    expect(process.exitCode).toBe(1);
    expect(stdout.join('')).toMatch(/::error::deploymentConfig\.ifDeploymentInProgress\.strategy: the relay has no deploy queue \(relay answered 404: no route for POST \/v1\/queue\/enter\); update the relay/);
  });

  it('asks nothing of the queue without the field', async () => {
    writeFileSync(join(dir, 'deploy.yml'), deployFile(null));
    await run();
    expect(output('result')).toBe('succeeded');
    expect(queueCalls).toEqual([]);
    expect(read('state')).not.toContain('"application"');
  });
});

describe('the post step with ifDeploymentInProgress', () => {
  it('leaves the queue with its target when the main step did not finish (the job was canceled)', async () => {
    Object.assign(process.env, {
      'STATE_deployment-id': 'octo/app/42',
      STATE_target: 'prod',
      STATE_queue: JSON.stringify({ repository: 'octo/app', application: 'app' }),
    });
    vi.resetModules();
    await import('../../action/post.ts');
    expect(queueCalls).toEqual([{ route: 'leave', body: { repository: 'octo/app', application: 'app', runId: 'octo/app/42', target: 'prod' } }]);
  });

  it('leaves nothing after a job that parked', async () => {
    Object.assign(process.env, { 'STATE_deployment-id': 'octo/app/42', STATE_parked: 'true', STATE_queue: JSON.stringify({ repository: 'octo/app', application: 'app' }) });
    vi.resetModules();
    await import('../../action/post.ts');
    expect(queueCalls).toEqual([]);
  });
});

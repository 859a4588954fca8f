/**
 * The main step as the runner runs it, parking and resuming (SPEC §9): inputs (INPUT_*), the run
 * (GITHUB_*, the event file), outputs, state and summary in the runner's files, the relay and an
 * external system over HTTP (local fakes).
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
import { FakeClock } from './fakes.ts';
import { FakeRelay } from './effects/fake-relay.ts';
import { PARKED_RUN } from './effects/park-helpers.ts';

const RUN = 'octo/app/42';
let relay: FakeRelay;
let served: { url: string; close: () => Promise<void> };
let hooks: Server;
let hookCalls: string[];
let dir: string;
// @actions/core keeps the first summary file it wrote to: one for every test, emptied before each.
const summaryFile = join(mkdtempSync(join(tmpdir(), 'hookgate-summary-')), 'summary.md');
let stdout: string[];
let saved: NodeJS.ProcessEnv;

const deployFile = (hookUrl: string, extra = ''): string => `
targets:
  prod:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Tests }
        - pause: { untilApproved: true }
webhooks:
  - name: Tests
    uriTemplate: ${hookUrl}/hook
    bodyTemplate: { inline: '{"callback": "{{armory.callbackUri}}"}' }
${extra}`;

beforeEach(async () => {
  saved = { ...process.env };
  dir = mkdtempSync(join(tmpdir(), 'hookgate-main-'));
  relay = new FakeRelay(new FakeClock(Date.now()));
  served = await relay.serve();
  hookCalls = [];
  hooks = createServer((req, res) => {
    hookCalls.push(`${req.method} ${req.url}`);
    res.end('ok');
  }).listen(0, '127.0.0.1');
  await once(hooks, 'listening');
  const hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  writeFileSync(join(dir, 'deploy.yml'), deployFile(hookUrl));
  for (const file of ['state', 'output']) writeFileSync(join(dir, file), '');
  writeFileSync(summaryFile, '');
  for (const name of Object.keys(process.env)) if (name.startsWith('INPUT_') || name.startsWith('STATE_')) Reflect.deleteProperty(process.env, name);
  Object.assign(process.env, {
    'INPUT_RELAY-URL': served.url,
    'INPUT_RELAY-TOKEN': 'relay-token',
    GITHUB_WORKSPACE: dir,
    GITHUB_REPOSITORY: 'octo/app',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: 'c0ffee',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKFLOW_REF: 'octo/app/.github/workflows/deploy.yml@refs/heads/main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_OUTPUT: join(dir, 'output'),
  });
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
  await new Promise((resolve) => hooks.close(resolve));
});

const read = (file: string): string => readFileSync(file === 'summary.md' ? summaryFile : join(dir, file), 'utf8');
const output = (name: string): string | undefined => new RegExp(`^${name}<<(.+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(read('output'))?.[2];
const relayPaths = (): string[] => relay.requests.map((r) => `${r.method} ${r.path.replace(/^\/v1\/gates\/.+/, '/v1/gates/:id')}`);

describe('run() with park-after', () => {
  it('parks: result parked, exit 0, the park at the relay, a summary with the pending gates and the way back, state parked', async () => {
    process.env['INPUT_PARK-AFTER'] = '0s';
    relay.parking.resume = { resume: 'manual', reason: 'the relay has no GitHub App' };
    await run();
    expect(process.exitCode).toBeUndefined();
    expect(output('result')).toBe('parked');
    expect(hookCalls).toEqual(['POST /hook']);
    const park = relay.parking.parks.get('*')?.request;
    expect(park).toMatchObject({ job: '*', attempt: 1, targets: [], resume: { repository: 'octo/app', workflow: '.github/workflows/deploy.yml', ref: 'refs/heads/main' } });
    expect(new Set(park?.gateIds)).toEqual(new Set([relay.gate('Tests').gateId, relay.gate('manual approval').gateId]));
    expect(relayPaths()).not.toContain('POST /v1/runs/cancel');
    const summary = read('summary.md');
    expect(summary).toContain('### ⏸️ prod: parked');
    expect(summary).toContain(`[approval page](${relay.gate('manual approval').approvalUrl})`);
    expect(summary).toContain('Resumes by hand (the relay has no GitHub App)');
    expect(summary).toContain(`gh workflow run deploy.yml --ref main -f hookgate-resume=${RUN}`);
    expect(read('state')).toMatch(/^parked<<.+\ntrue\n/m);
  });

  it('in gate mode warns that what follows a parked beforeDeployment step runs now; without gate mode it does not', async () => {
    process.env['INPUT_PARK-AFTER'] = '0s';
    await run();
    expect(stdout.join('')).not.toContain('this gate step parked');
    stdout.length = 0;
    Object.assign(process.env, { INPUT_TARGET: 'prod', INPUT_PHASE: 'beforeDeployment' });
    await run();
    expect(output('result')).toBe('parked');
    expect(stdout.join('')).toMatch(/::warning::hookgate: this gate step parked and exits 0, so the steps and jobs after it run now/);
  });

  it('says how it resumes automatically when the relay can dispatch', async () => {
    process.env['INPUT_PARK-AFTER'] = '0s';
    await run();
    expect(read('summary.md')).toContain(`Resumes automatically: hookgate dispatches deploy.yml on main with hookgate-resume=${RUN} once every gate`);
  });

  it('fails, not parked, when the relay cannot store the park (its gates stay pending)', async () => {
    process.env['INPUT_PARK-AFTER'] = '0s';
    relay.outages.set('POST /v1/runs/park', 503);
    await run();
    expect(process.exitCode).toBe(1);
    expect(stdout.join('')).toContain('::error::the job could not park, so it fails instead (its gates stay pending at the relay');
    expect(relay.gate('Tests').state).toBe('pending');
    expect(read('state')).toMatch(/^parked<<.+\ntrue\n/m);
  }, 20_000);

  it('a resumed run continues the parked attempt: the webhook is not called again, and the park is closed at the end', async () => {
    relay.parking.parked(
      { runId: RUN, job: '*', attempt: 1, gateIds: [], targets: [], resume: { repository: 'octo/app', workflow: '.github/workflows/deploy.yml', ref: 'refs/heads/main' }, run: PARKED_RUN },
      [{ key: 'prod/beforeDeployment/0#called', record: { type: 'called' } }],
    );
    relay.decisions.set('Tests', { state: 'succeeded', message: 'all green' });
    relay.decisions.set('manual approval', { state: 'succeeded', decidedBy: 'mona' });
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ inputs: { 'hookgate-resume': RUN } }));
    Object.assign(process.env, { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_EVENT_PATH: event, GITHUB_RUN_ID: '43', 'INPUT_DEPLOYMENT-ID': 'ignored/id' });
    await run();
    expect(process.exitCode).toBeUndefined();
    expect(output('result')).toBe('succeeded');
    expect(output('deployment-id')).toBe(RUN);
    expect(hookCalls).toEqual([]);
    expect(relay.parking.parks.get('*')).toMatchObject({ state: 'closed', claimedBy: { id: '43' } });
  });

  it('fails at start when the event asks for a resume the relay has nothing for, with the relay reason', async () => {
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ inputs: { 'hookgate-resume': RUN } }));
    Object.assign(process.env, { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_EVENT_PATH: event });
    await run();
    expect(process.exitCode).toBe(1);
    expect(stdout.join('')).toContain(`::error::input hookgate-resume: deployment ${RUN} has nothing to continue: the deployment has no parked job`);
    expect(relayPaths()).toEqual(['POST /v1/runs/resume']);
  });

  it('neutralizes and redacts the relay text it shows', async () => {
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ inputs: { 'hookgate-resume': RUN } }));
    Object.assign(process.env, { GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_EVENT_PATH: event, INPUT_SECRETS: '{"TOKEN": "s3cr3t-value"}' });
    relay.parking.nothingReason = 'gone\n::add-mask::everything s3cr3t-value';
    await run();
    const lines = stdout.join('').split('\n');
    expect(lines.filter((line) => line.startsWith('::add-mask::'))).toEqual(['::add-mask::relay-token', '::add-mask::s3cr3t-value']);
    expect(lines.filter((line) => line.includes('everything'))).toEqual(['::error::input hookgate-resume: deployment octo/app/42 has nothing to continue: gone%0A:\u200B:add-mask::everything ***']);
  });
});

describe('run() without park-after', () => {
  it('makes no park or journal request, and warns that a gate may outlive a hosted job', async () => {
    relay.decisions.set('Tests', { state: 'succeeded' });
    relay.decisions.set('manual approval', { state: 'succeeded' });
    await run();
    expect(output('result')).toBe('succeeded');
    expect(relayPaths().filter((p) => /journal|park|resume/.test(p))).toEqual([]);
    expect(stdout.join('')).toContain('::warning::hookgate: a gate of deploy.yml may wait up to 24h, longer than the 6-hour limit of a job on a GitHub-hosted runner');
  });

  it('does not warn about the 6-hour limit with park-after, nor when no gate waits that long', async () => {
    relay.decisions.set('Tests', { state: 'succeeded' });
    relay.decisions.set('manual approval', { state: 'succeeded' });
    process.env['INPUT_PARK-AFTER'] = '2h';
    await run();
    expect(output('result')).toBe('succeeded');
    expect(stdout.join('')).not.toContain('6-hour');
  });
});

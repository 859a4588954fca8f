import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getSettings, parseParkAfter, runRef } from '../../action/settings.ts';
import { githubContext } from '../../action/settings.ts';

const touched = [
  'INPUT_RELAY-URL',
  'INPUT_RELAY-TOKEN',
  'INPUT_DEPLOYMENT-ID',
  'INPUT_PARK-AFTER',
  'GITHUB_REPOSITORY',
  'GITHUB_RUN_ID',
  'GITHUB_EVENT_NAME',
  'GITHUB_EVENT_PATH',
];
let saved: Record<string, string | undefined> = {};
const dir = mkdtempSync(join(tmpdir(), 'hookgate-event-'));

/** A workflow_dispatch event file with these inputs, as the runner writes it. */
function dispatchEvent(inputs: Record<string, unknown>): void {
  const path = join(dir, 'event.json');
  writeFileSync(path, JSON.stringify({ inputs, ref: 'refs/heads/main', workflow: '.github/workflows/deploy.yml' }));
  process.env.GITHUB_EVENT_NAME = 'workflow_dispatch';
  process.env.GITHUB_EVENT_PATH = path;
}

beforeEach(() => {
  saved = Object.fromEntries(touched.map((name) => [name, process.env[name]]));
  for (const name of touched) Reflect.deleteProperty(process.env, name);
  process.env['INPUT_RELAY-URL'] = 'https://relay.example.workers.dev';
  process.env['INPUT_RELAY-TOKEN'] = 'relay-token';
  process.env.GITHUB_REPOSITORY = 'octo/app';
  process.env.GITHUB_RUN_ID = '77';
});

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
});

describe('park-after', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['5h', 5 * 3_600_000],
    ['2d', 2 * 86_400_000],
    ['0s', 0],
    ['', null],
    ['  ', null],
  ])('reads %j as %s ms', (text, ms) => {
    expect(parseParkAfter(text)).toBe(ms);
  });

  it.each(['10', 'm', '10 minutes', '1.5h', '-5m', '10w', '31d', '99999999s'])('refuses %j, naming the input', (text) => {
    expect(() => parseParkAfter(text)).toThrow(/^input park-after: .* e\.g\. 90s, 10m, 5h or 2d/);
  });

  it('comes from INPUT_PARK-AFTER', () => {
    process.env['INPUT_PARK-AFTER'] = '5h';
    expect(getSettings().parkAfterMs).toBe(5 * 3_600_000);
    process.env['INPUT_PARK-AFTER'] = 'soon';
    expect(() => getSettings()).toThrow("input park-after: 'soon' is not a duration");
  });

  it('is refused for an afterDeployment gate step, whose job ran the deploy before it', () => {
    Object.assign(process.env, { 'INPUT_PARK-AFTER': '10m', INPUT_TARGET: 'prod', INPUT_PHASE: 'afterDeployment' });
    expect(() => getSettings()).toThrow('input park-after: an afterDeployment gate step cannot park');
    process.env.INPUT_PHASE = 'beforeDeployment';
    expect(getSettings().parkAfterMs).toBe(600_000);
  });
});

describe('hookgate-resume', () => {
  it('takes the deployment id from a workflow_dispatch event, over the deployment-id input', () => {
    process.env['INPUT_DEPLOYMENT-ID'] = 'custom/id';
    dispatchEvent({ 'hookgate-resume': 'octo/app/42' });
    const settings = getSettings();
    expect(settings.deploymentId).toBe('octo/app/42');
    expect(settings.resumeRequested).toBe(true);
  });

  it('is no resume without the input, with it empty, or for another event', () => {
    dispatchEvent({ other: 'x' });
    expect(getSettings()).toMatchObject({ deploymentId: 'octo/app/77', resumeRequested: false });
    dispatchEvent({ 'hookgate-resume': '' });
    expect(getSettings()).toMatchObject({ deploymentId: 'octo/app/77', resumeRequested: false });
    dispatchEvent({ 'hookgate-resume': 'octo/app/42' });
    process.env.GITHUB_EVENT_NAME = 'push';
    expect(getSettings()).toMatchObject({ deploymentId: 'octo/app/77', resumeRequested: false });
  });

  it.each([['has space'], ['x'.repeat(201)], ['tab\there']])('refuses an invalid id %j, naming the input', (id) => {
    dispatchEvent({ 'hookgate-resume': id });
    expect(() => getSettings()).toThrow(/^input hookgate-resume: not a deployment id/);
  });

  it('refuses an id that is not a string, and an event file that is not JSON', () => {
    dispatchEvent({ 'hookgate-resume': 42 });
    expect(() => getSettings()).toThrow(/^input hookgate-resume: not a deployment id/);
    writeFileSync(join(dir, 'event.json'), '{nope');
    expect(() => getSettings()).toThrow('input hookgate-resume: the workflow_dispatch event (GITHUB_EVENT_PATH) could not be read as JSON');
  });
});

describe('runRef', () => {
  it('describes the run as the relay records it', () => {
    const github = githubContext({ GITHUB_REPOSITORY: 'octo/app', GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '3' });
    expect(runRef(github)).toEqual({ id: '77', attempt: 3, url: 'https://github.com/octo/app/actions/runs/77' });
    expect(runRef(githubContext({ GITHUB_RUN_ID: 'a b', GITHUB_SERVER_URL: 'file:' })).url).toBe('');
  });
});

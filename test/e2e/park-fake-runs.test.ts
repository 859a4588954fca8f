/**
 * The fake GitHub's list of a workflow's runs and `GET /app` (the relay asks them when a resume's
 * answer was lost: relay/github/resumed-run.ts): the runs accepted dispatches started, triggered
 * by the App's bot, filtered as GitHub filters, the query checked against GitHub's description.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub } from '../support/github-api.ts';
import { Started } from './started.ts';

const APP_ID = '123456';
const REPO = 'acme/potato-facts';
const RUNS = `/repos/${REPO}/actions/workflows/deploy.yml/runs`;
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs1 = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const started = new Started();
let github: FakeGitHub;
let readless: FakeGitHub;
beforeAll(async () => {
  github = await started.add(() => startFakeGitHub('unused', { app: { id: APP_ID, publicKey, slug: 'my-gates' } }), (fake) => fake.close());
  readless = await started.add(() => startFakeGitHub('unused', { app: { id: APP_ID, publicKey, permissions: { metadata: 'read' } } }), (fake) => fake.close());
  for (const fake of [github, readless]) {
    fake.registerWorkflow({ repository: REPO, file: '.github/workflows/deploy.yml', inputs: { 'hookgate-resume': {} }, refs: ['main', 'v1'] });
  }
});
afterAll(() => started.stopAll());

function auth(fake: FakeGitHub): ReturnType<typeof createAppAuth> {
  return createAppAuth({ appId: APP_ID, privateKey: pkcs1, request: request.defaults({ baseUrl: fake.url }) });
}

async function installationToken(fake: FakeGitHub): Promise<string> {
  const appAuth = auth(fake);
  const { data } = await request('GET /repos/{owner}/{repo}/installation', {
    baseUrl: fake.url,
    owner: 'acme',
    repo: 'potato-facts',
    headers: { authorization: `bearer ${(await appAuth({ type: 'app' })).token}` },
  });
  return (await appAuth({ type: 'installation', installationId: data.id })).token;
}

async function get(fake: FakeGitHub, path: string, authorization: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${fake.url}${path}`, { headers: { authorization, accept: 'application/vnd.github+json', 'user-agent': 'test' } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function dispatch(fake: FakeGitHub, token: string, ref: string): Promise<void> {
  const response = await fetch(`${fake.url}/repos/${REPO}/actions/workflows/deploy.yml/dispatches`, {
    method: 'POST',
    headers: { authorization: `token ${token}`, accept: 'application/vnd.github+json', 'user-agent': 'test', 'content-type': 'application/json' },
    body: JSON.stringify({ ref, inputs: { 'hookgate-resume': '1' } }),
  });
  expect(response.status).toBe(204);
}

describe('the fake GitHub', () => {
  it('answers GET /app with the App’s slug to the App’s JWT only', async () => {
    const jwt = (await auth(github)({ type: 'app' })).token;
    expect(await get(github, '/app', `bearer ${jwt}`)).toMatchObject({ status: 200, body: { id: 123456, slug: 'my-gates' } });
    expect((await get(github, '/app', `token ${await installationToken(github)}`)).status).toBe(401);
  });

  it('lists the runs dispatches started, newest first, triggered by the App’s bot, filtered by ref, event and creation time', async () => {
    const token = await installationToken(github);
    const before = new Date(Date.now() - 2000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await dispatch(github, token, 'main');
    await dispatch(github, token, 'v1');
    const all = await get(github, `${RUNS}?event=workflow_dispatch&created=%3E%3D${before}&per_page=100`, `token ${token}`);
    expect(all.status).toBe(200);
    const runs = all.body.workflow_runs as Record<string, unknown>[];
    expect(runs.map((run) => run.head_branch)).toEqual(['v1', 'main']);
    expect(runs[1]).toMatchObject({
      id: Number(github.workflowDispatches[0]?.runId),
      html_url: github.workflowDispatches[0]?.htmlUrl,
      path: '.github/workflows/deploy.yml',
      event: 'workflow_dispatch',
      triggering_actor: { login: 'my-gates[bot]', type: 'Bot' },
    });
    expect(((await get(github, `${RUNS}?branch=main`, `token ${token}`)).body.workflow_runs as unknown[]).length).toBe(1);
    expect(((await get(github, `${RUNS}?event=push`, `token ${token}`)).body.workflow_runs as unknown[]).length).toBe(0);
    const later = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(((await get(github, `${RUNS}?created=%3E%3D${later}`, `token ${token}`)).body.workflow_runs as unknown[]).length).toBe(0);
  });

  it('refuses a query GitHub’s description does not take, a token of no App, and an App without actions: read', async () => {
    const token = `token ${await installationToken(github)}`;
    expect(await get(github, `${RUNS}?per_page=many`, token)).toMatchObject({ status: 422, body: { message: expect.stringContaining("'per_page'") } });
    expect(await get(github, `${RUNS}?created=yesterday`, token)).toMatchObject({ status: 422, body: { message: expect.stringContaining("'created'") } });
    expect(await get(github, `${RUNS}?triggered_by=me`, token)).toMatchObject({ status: 422, body: { message: expect.stringContaining('"triggered_by"') } });
    expect((await get(github, RUNS, 'token ghs_unknown')).status).toBe(401);
    expect((await get(readless, RUNS, `token ${await installationToken(readless)}`)).status).toBe(403);
  });
});

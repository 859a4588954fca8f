/**
 * The fake GitHub's App endpoints and workflow dispatches refuse what GitHub refuses: a fake
 * that accepts anything would prove nothing about the relay that talks to it. The happy path
 * uses the relay's own client (@octokit/auth-app), so the fake is known to accept what the relay sends.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub, WorkflowDispatch } from '../support/github-api.ts';
import { Started } from './started.ts';

const APP_ID = '123456';
const REPO = 'acme/potato-facts';
const DISPATCH = `/repos/${REPO}/actions/workflows/deploy.yml/dispatches`;
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs1 = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const started = new Started();
let github: FakeGitHub;
let ghes: FakeGitHub;
beforeAll(async () => {
  const app = { id: APP_ID, publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  github = await started.add(() => startFakeGitHub('unused', { app }), (fake) => fake.close());
  ghes = await started.add(() => startFakeGitHub('unused', { app, ghes: true }), (fake) => fake.close());
  for (const fake of [github, ghes]) fake.registerWorkflow({ repository: REPO, file: '.github/workflows/deploy.yml', inputs: { 'hookgate-resume': {} } });
});
afterAll(() => started.stopAll());

/** An installation token through @octokit/auth-app, as the relay gets one. */
async function installationToken(fake: FakeGitHub): Promise<string> {
  const auth = createAppAuth({ appId: APP_ID, privateKey: pkcs1, request: request.defaults({ baseUrl: fake.url }) });
  const { data } = await request('GET /repos/{owner}/{repo}/installation', {
    baseUrl: fake.url,
    owner: 'acme',
    repo: 'potato-facts',
    headers: { authorization: `bearer ${(await auth({ type: 'app' })).token}` },
  });
  return (await auth({ type: 'installation', installationId: data.id })).token;
}

/** A JWT with these claims, signed by `key` (the App's own by default). */
async function jwt(claims: { iat: number; exp: number; iss?: string }, key: KeyObject = keys.privateKey): Promise<string> {
  return new SignJWT({ iss: claims.iss ?? APP_ID }).setProtectedHeader({ alg: 'RS256' }).setIssuedAt(claims.iat).setExpirationTime(claims.exp).sign(key);
}

async function call(fake: FakeGitHub, method: string, path: string, authorization: string, body?: unknown): Promise<{ status: number; body: { message?: string } & Record<string, unknown> }> {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization, accept: 'application/vnd.github+json', 'user-agent': 'test', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as { message?: string }) : {} };
}

const now = (): number => Math.floor(Date.now() / 1000);

describe('the fake GitHub App', () => {
  it('accepts what @octokit/auth-app sends, answers the dispatch with the run, and calls onDispatch', async () => {
    const seen: WorkflowDispatch[] = [];
    github.onDispatch((dispatch) => seen.push(dispatch));
    const token = await installationToken(github);
    expect(token).toMatch(/^ghs_/);
    const answer = await call(github, 'POST', DISPATCH, `token ${token}`, { ref: 'main', inputs: { 'hookgate-resume': 'acme/potato-facts/1' }, return_run_details: true });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ workflow_run_id: expect.any(Number), html_url: expect.stringMatching(/^https:\/\/github\.com\/acme\/potato-facts\/actions\/runs\/\d+$/) });
    await expect.poll(() => seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ repository: REPO, workflow: '.github/workflows/deploy.yml', ref: 'main', inputs: { 'hookgate-resume': 'acme/potato-facts/1' } });
    expect(github.refusals()).toEqual([]);
    const without = await call(github, 'POST', DISPATCH, `Bearer ${token}`, { ref: 'main', inputs: { 'hookgate-resume': 'x' } });
    expect(without.status).toBe(204);
  });

  it('refuses a JWT signed by another key, an expired one, one too long-lived, one from the future, another app’s', async () => {
    const path = `/repos/${REPO}/installation`;
    const t = now();
    const cases: [string, Promise<string>, RegExp][] = [
      ['wrong key', jwt({ iat: t - 30, exp: t + 500 }, otherKey), /could not be decoded/],
      ['expired', jwt({ iat: t - 700, exp: t - 100 }), /'exp'/],
      ['longer than 10 minutes', jwt({ iat: t - 30, exp: t + 900 }), /too far in the future/],
      ['issued in the future', jwt({ iat: t + 120, exp: t + 600 }), /'iat'/],
      ['another app', jwt({ iat: t - 30, exp: t + 500, iss: '999' }), /could not be decoded/],
    ];
    for (const [label, token, message] of cases) {
      const answer = await call(github, 'GET', path, `Bearer ${await token}`);
      expect([label, answer.status, answer.body.message]).toEqual([label, 401, expect.stringMatching(message)]);
    }
    expect((await call(github, 'GET', path, 'Bearer not-a-jwt')).status).toBe(401);
    expect((await call(github, 'GET', path, `Bearer ${await jwt({ iat: t - 30, exp: t + 500 })}`)).status).toBe(200);
    expect((await call(github, 'GET', '/repos/acme/elsewhere/installation', `Bearer ${await jwt({ iat: t - 30, exp: t + 500 })}`)).status).toBe(404);
  });

  it('refuses a JWT, an unknown token and an expired installation token on the dispatch', async () => {
    const body = { ref: 'main', inputs: { 'hookgate-resume': 'x' } };
    const t = now();
    expect((await call(github, 'POST', DISPATCH, `Bearer ${await jwt({ iat: t - 30, exp: t + 500 })}`, body)).status).toBe(401);
    expect((await call(github, 'POST', DISPATCH, 'token ghs_madeup', body)).status).toBe(401);
    const token = await installationToken(github);
    expect((await call(github, 'POST', DISPATCH, `token ${token}`, body)).status).toBe(204);
    github.advanceClock(60 * 60 + 1);
    try {
      expect(await call(github, 'POST', DISPATCH, `token ${token}`, body)).toMatchObject({ status: 401, body: { message: 'Bad credentials' } });
    } finally {
      github.advanceClock(-(60 * 60 + 1));
    }
  });

  it('refuses a body GitHub’s schema refuses, an undeclared input, an unknown workflow or ref', async () => {
    const token = `token ${await installationToken(github)}`;
    const refused = async (path: string, body: unknown): Promise<[number, string]> => {
      const answer = await call(github, 'POST', path, token, body);
      return [answer.status, answer.body.message ?? ''];
    };
    expect(await refused(DISPATCH, { ref: 'main', extra: 1 })).toEqual([422, 'Invalid request.\n\n"extra" is not a permitted key.']);
    expect(await refused(DISPATCH, { inputs: {} })).toEqual([422, 'Invalid request.\n\n"ref" wasn\'t supplied.']);
    expect((await refused(DISPATCH, { ref: 7 }))[0]).toBe(422);
    expect((await refused(DISPATCH, { ref: 'main', return_run_details: 'yes' }))[0]).toBe(422);
    expect(await refused(DISPATCH, { ref: 'main', inputs: { 'hookgate-resume': 'x', deploy: 'y' } })).toEqual([422, 'Unexpected inputs provided: ["deploy"]']);
    expect(await refused(DISPATCH, { ref: 'nope' })).toEqual([422, 'No ref found for: nope']);
    expect(await refused(`/repos/${REPO}/actions/workflows/other.yml/dispatches`, { ref: 'main' })).toEqual([404, 'Not Found']);
    expect(github.refusals().length).toBeGreaterThanOrEqual(7);
  });

  it('as GHES 3.19, refuses return_run_details, naming it, and accepts the dispatch without it', async () => {
    const token = `token ${await installationToken(ghes)}`;
    const answer = await call(ghes, 'POST', DISPATCH, token, { ref: 'main', inputs: { 'hookgate-resume': 'x' }, return_run_details: true });
    expect(answer).toMatchObject({ status: 422, body: { message: expect.stringContaining('return_run_details') } });
    expect((await call(ghes, 'POST', DISPATCH, token, { ref: 'main', inputs: { 'hookgate-resume': 'x' } })).status).toBe(204);
  });

  it('plays scripted refusals with GitHub’s message', async () => {
    const token = `token ${await installationToken(github)}`;
    github.fail({ status: 403, path: /\/dispatches$/, message: 'Resource not accessible by integration', times: 1 });
    expect(await call(github, 'POST', DISPATCH, token, { ref: 'main' })).toMatchObject({ status: 403, body: { message: 'Resource not accessible by integration' } });
    expect((await call(github, 'POST', DISPATCH, token, { ref: 'main' })).status).toBe(204);
  });
});

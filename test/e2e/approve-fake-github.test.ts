/**
 * The fake GitHub's sign-in, people and protection-rule endpoints refuse what GitHub refuses: a
 * fake that accepts anything proves nothing about the relay. The happy path goes through the
 * relay's own clients (arctic's OAuth2Client, @octokit/auth-app), so the fake is known to accept
 * what the relay sends; webhook deliveries are checked with @octokit/webhooks-methods' `verify`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import { verify } from '@octokit/webhooks-methods';
import { CodeChallengeMethod, OAuth2Client, generateCodeVerifier, generateState } from 'arctic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverWebhook, startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub } from '../support/github-api.ts';
import { Started } from './started.ts';

const APP_ID = '123456';
const REPO = 'acme/potato-facts';
const CALLBACK = 'http://127.0.0.1:1/auth/github/callback';
const CLIENT = { clientId: 'Iv23liFakeClient', clientSecret: 'fake-client-secret-0123' };
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs1 = keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

const started = new Started();
let github: FakeGitHub;
beforeAll(async () => {
  const app = { id: APP_ID, publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), repositories: [REPO, 'umbrella/tools'] };
  const people = {
    users: ['mona', 'hubot', 'octocat', 'Invited'],
    teams: { '@acme/release-team': ['Mona'] },
    pendingMembers: { '@acme/release-team': ['invited'] },
    roles: { [REPO]: { mona: 'admin' as const, hubot: 'maintain' as const, octocat: 'triage' as const } },
  };
  github = await started.add(() => startFakeGitHub('unused', { app, oauth: { ...CLIENT, callbackUrls: [CALLBACK] }, people }), (fake) => fake.close());
});
afterAll(() => started.stopAll());

const client = (secret = CLIENT.clientSecret, redirect = CALLBACK): OAuth2Client => new OAuth2Client(CLIENT.clientId, secret, redirect);

/** Authorizes as `login` through the automatic 302: the code, the verifier and the state. */
async function authorized(login: string, redirect = CALLBACK): Promise<{ code: string; verifier: string; location: URL; state: string }> {
  const verifier = generateCodeVerifier();
  const state = generateState();
  const url = client(CLIENT.clientSecret, redirect).createAuthorizationURLWithPKCE(`${github.url}/login/oauth/authorize`, state, CodeChallengeMethod.S256, verifier, []);
  github.signInAs(login);
  try {
    const answer = await fetch(url, { redirect: 'manual' });
    const location = new URL(answer.headers.get('location') ?? 'http://none/');
    return { code: location.searchParams.get('code') ?? '', verifier, location, state };
  } finally {
    github.signInAs(null);
  }
}

/** The token endpoint's JSON answer to a form. */
async function exchange(form: Record<string, string>, authorization?: string): Promise<Record<string, unknown>> {
  const answer = await fetch(`${github.url}/login/oauth/access_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(form),
  });
  expect(answer.status).toBe(200); // GitHub answers its OAuth errors 200, the error in the body
  return (await answer.json()) as Record<string, unknown>;
}

async function api(path: string, authorization: string, method = 'GET', body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await fetch(`${github.url}${path}`, {
    method,
    headers: { authorization, 'user-agent': 'test', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await answer.text();
  return { status: answer.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** An installation token through @octokit/auth-app, as the relay gets one. */
async function installationToken(repository = REPO): Promise<string> {
  const auth = createAppAuth({ appId: APP_ID, privateKey: pkcs1, request: request.defaults({ baseUrl: github.url }) });
  const [owner = '', repo = ''] = repository.split('/');
  const jwt = (await auth({ type: 'app' })).token;
  const { data } = await request('GET /repos/{owner}/{repo}/installation', { baseUrl: github.url, owner, repo, headers: { authorization: `bearer ${jwt}` } });
  return `token ${(await auth({ type: 'installation', installationId: data.id })).token}`;
}

describe('sign in with GitHub at the fake', () => {
  it('takes what arctic sends: authorize (302 as the chosen user), the PKCE exchange, then GET /user', async () => {
    const { code, verifier, location, state } = await authorized('mona');
    expect(location.origin + location.pathname).toBe(CALLBACK);
    expect(location.searchParams.get('state')).toBe(state);
    const tokens = await client().validateAuthorizationCode(`${github.url}/login/oauth/access_token`, code, verifier);
    expect(tokens.accessToken()).toMatch(/^ghu_/);
    const user = await api('/user', `Bearer ${tokens.accessToken()}`);
    expect(user).toMatchObject({ status: 200, body: { login: 'mona', id: 5_000_001, type: 'User' } });
  });

  it('shows a "Sign in as" page that escapes the request, and signs in whoever is clicked', async () => {
    const verifier = generateCodeVerifier();
    const url = client().createAuthorizationURLWithPKCE(`${github.url}/login/oauth/authorize`, '<script>x</script>', CodeChallengeMethod.S256, verifier, []);
    const page = await fetch(url);
    const html = await page.text();
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('Sign in as @hubot');
    expect(html).not.toContain('<script>');
    const form = new URLSearchParams(url.searchParams);
    form.set('login', 'hubot');
    const chosen = await fetch(`${github.url}/login/oauth/authorize`, { method: 'POST', body: form, redirect: 'manual' });
    const location = new URL(chosen.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('<script>x</script>');
    const tokens = await client().validateAuthorizationCode(`${github.url}/login/oauth/access_token`, location.searchParams.get('code') ?? '', verifier);
    expect((await api('/user', `token ${tokens.accessToken()}`)).body.login).toBe('hubot');
    form.delete('login');
    form.set('cancel', '1');
    const cancel = await fetch(`${github.url}/login/oauth/authorize`, { method: 'POST', body: form, redirect: 'manual' });
    expect(new URL(cancel.headers.get('location') ?? '').searchParams.get('error')).toBe('access_denied');
  });

  it('refuses a bad verifier, a reused or expired code, a wrong secret, another redirect_uri', async () => {
    const bad = await authorized('mona');
    expect(await exchange({ grant_type: 'authorization_code', code: bad.code, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, code_verifier: generateCodeVerifier() })).toMatchObject({ error: 'bad_verification_code' });
    expect(await exchange({ code: bad.code, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret })).toMatchObject({ error: 'bad_verification_code' });
    // arctic sees no access token in GitHub's 200 error answer.
    await expect(client().validateAuthorizationCode(`${github.url}/login/oauth/access_token`, bad.code, 'x'.repeat(43)).then((t) => t.accessToken())).rejects.toThrow();

    const used = await authorized('mona');
    const first = await exchange({ code: used.code, code_verifier: used.verifier, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, redirect_uri: CALLBACK });
    expect(first.access_token).toMatch(/^ghu_/);
    expect(await exchange({ code: used.code, code_verifier: used.verifier, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret })).toMatchObject({ error: 'bad_verification_code' });

    const secret = await authorized('mona');
    const basic = (s: string): string => `Basic ${Buffer.from(`${CLIENT.clientId}:${s}`).toString('base64')}`;
    expect(await exchange({ code: secret.code, code_verifier: secret.verifier }, basic('wrong'))).toMatchObject({ error: 'incorrect_client_credentials' });
    expect(await exchange({ code: secret.code, code_verifier: secret.verifier, redirect_uri: 'http://127.0.0.1:1/elsewhere' }, basic(CLIENT.clientSecret))).toMatchObject({ error: 'redirect_uri_mismatch' });
    expect((await exchange({ code: secret.code, code_verifier: secret.verifier }, basic(CLIENT.clientSecret))).access_token).toMatch(/^ghu_/);

    const late = await authorized('mona');
    github.advanceClock(601);
    try {
      expect(await exchange({ code: late.code, code_verifier: late.verifier, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret })).toMatchObject({ error: 'bad_verification_code' });
    } finally {
      github.advanceClock(-601);
    }
  });

  it('refuses an authorize request GitHub refuses: unknown client, unregistered redirect_uri, a plain challenge', async () => {
    expect((await fetch(`${github.url}/login/oauth/authorize?client_id=Iv23other&state=s`)).status).toBe(404);
    const mismatch = await authorized('mona', 'http://127.0.0.1:2/auth/github/callback');
    expect([mismatch.location.origin + mismatch.location.pathname, mismatch.location.searchParams.get('error'), mismatch.code]).toEqual([CALLBACK, 'redirect_uri_mismatch', '']);
    const plain = client().createAuthorizationURLWithPKCE(`${github.url}/login/oauth/authorize`, 's', CodeChallengeMethod.Plain, generateCodeVerifier(), []);
    expect((await fetch(plain, { redirect: 'manual' })).status).toBe(400);
  });

  it('GET /user refuses a made-up token, an installation token and an expired user token', async () => {
    expect((await api('/user', 'Bearer ghu_madeup')).status).toBe(401);
    expect((await api('/user', '')).status).toBe(401);
    expect(await api('/user', await installationToken())).toMatchObject({ status: 403, body: { message: 'Resource not accessible by integration' } });
    const { code, verifier } = await authorized('octocat');
    const token = (await client().validateAuthorizationCode(`${github.url}/login/oauth/access_token`, code, verifier)).accessToken();
    github.advanceClock(8 * 60 * 60 + 1);
    try {
      expect((await api('/user', `Bearer ${token}`)).status).toBe(401);
    } finally {
      github.advanceClock(-(8 * 60 * 60 + 1));
    }
  });
});

describe('people at the fake', () => {
  it('team membership: active, pending, none, with the installation token of that organization only', async () => {
    const token = await installationToken();
    const path = (user: string): string => `/orgs/acme/teams/release-team/memberships/${user}`;
    expect(await api(path('MONA'), token)).toMatchObject({ status: 200, body: { state: 'active', role: 'member', url: expect.any(String) } });
    expect((await api(path('invited'), token)).body.state).toBe('pending');
    expect((await api(path('hubot'), token)).status).toBe(404);
    expect((await api('/orgs/acme/teams/no-such-team/memberships/mona', token)).status).toBe(404);
    expect((await api(path('mona'), 'token ghs_madeup')).status).toBe(401);
    expect((await api(path('mona'), await installationToken('umbrella/tools'))).status).toBe(403);
  });

  it('collaborator permission: maintain reads as write, triage as read, anyone else reads; unknown user 404', async () => {
    const token = await installationToken();
    const permission = async (user: string): Promise<unknown> => {
      const answer = await api(`/repos/${REPO}/collaborators/${user}/permission`, token);
      return [answer.status, answer.body.permission, answer.body.role_name];
    };
    expect(await permission('mona')).toEqual([200, 'admin', 'admin']);
    expect(await permission('hubot')).toEqual([200, 'write', 'maintain']);
    expect(await permission('octocat')).toEqual([200, 'read', 'triage']);
    expect(await permission('invited')).toEqual([200, 'read', 'read']);
    expect((await api(`/repos/${REPO}/collaborators/nobody/permission`, token)).status).toBe(404);
    expect((await api(`/repos/${REPO}/collaborators/mona/permission`, await installationToken('umbrella/tools'))).status).toBe(404);
  });
});

describe('the deployment protection rule at the fake', () => {
  it('takes one review per pending rule, checked against GitHub’s schema, with the repository’s installation token', async () => {
    const payload = github.protectionRuleRequested({ repository: REPO, runId: '777', environment: 'prod' });
    const callback = String(payload.deployment_callback_url);
    expect(callback).toBe(`${github.url}/repos/${REPO}/actions/runs/777/deployment_protection_rule`);
    expect(payload).toMatchObject({ action: 'requested', environment: 'prod', repository: { full_name: REPO }, installation: { id: expect.any(Number) } });
    const path = new URL(callback).pathname;
    const token = await installationToken();
    expect((await api(path, token, 'POST', { environment_name: 'prod', state: 'approved', extra: 1 })).status).toBe(422);
    expect((await api(path, token, 'POST', { environment_name: 'prod', state: 'maybe' })).body.message).toContain('state');
    expect((await api(path, token, 'POST', { environment_name: 'prod' })).status).toBe(422);
    expect((await api(path, 'token ghs_madeup', 'POST', { environment_name: 'prod', state: 'approved' })).status).toBe(401);
    expect((await api(path, await installationToken('umbrella/tools'), 'POST', { environment_name: 'prod', state: 'approved' })).status).toBe(404);
    expect((await api(path, token, 'POST', { environment_name: 'staging', state: 'approved' })).status).toBe(422);
    expect(github.protectionReviews).toEqual([]);
    expect((await api(path, token, 'POST', { environment_name: 'prod', state: 'approved', comment: 'gates passed' })).status).toBe(204);
    expect((await api(path, token, 'POST', { environment_name: 'prod', state: 'rejected', comment: 'again' })).status).toBe(422);
    expect(github.protectionReviews).toEqual([{ repository: REPO, runId: '777', environment: 'prod', state: 'approved', comment: 'gates passed', at: expect.any(Number) }]);
  });

  it('delivers webhooks signed as GitHub signs them; a forged or missing signature does not verify', async () => {
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/github/webhook`;
      const payload = { zen: 'Design for failure.', hook_id: 1 };
      for (const signature of ['signed', { otherSecret: 'not-it' }, 'none'] as const) {
        expect((await deliverWebhook({ url, secret: 'it', event: 'ping', payload, signature })).status).toBe(204);
      }
      const [signed, forged, unsigned] = seen;
      expect(signed?.headers).toMatchObject({ 'x-github-event': 'ping', 'x-github-delivery': expect.stringMatching(/^[0-9a-f-]{36}$/), 'content-type': 'application/json' });
      expect(await verify('it', signed?.body ?? '', String(signed?.headers['x-hub-signature-256']))).toBe(true);
      expect(await verify('it', forged?.body ?? '', String(forged?.headers['x-hub-signature-256']))).toBe(false);
      expect(unsigned?.headers['x-hub-signature-256']).toBeUndefined();
    } finally {
      server.close();
    }
  });
});

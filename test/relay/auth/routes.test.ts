/**
 * The sign-in routes (relay/auth/routes.ts) against the fake GitHub: the redirect with PKCE and
 * state, the callback's state check (missing, different, replayed), the return path, sign-out,
 * and the 503s of a relay whose sign-in is not (or badly) configured.
 */
import { describe, expect, it } from 'vitest';
import { Health } from '../../../shared/park.ts';
import { mintFlow, readSession } from '../../../relay/auth/session.ts';
import { BASE, CALLBACK_SECRET } from '../helpers.ts';
import { cookieOf, GITHUB_WEB, newLogin, relay, setCookieLine, SIGNIN_ENV, SIGNIN_OFF_ENV, signIn, startSignIn } from './signin.ts';

const RETURN = '/approve/YQ.AAAAAAAAAAAAAAAAAAAAAA.bWFj';
const FLOW = '__Host-hookgate-oauth';
const SESSION = '__Host-hookgate-session';

describe('GET /auth/github', () => {
  it('redirects to GitHub with an S256 PKCE challenge and a state, held in a short-lived signed cookie', async () => {
    const res = await relay(`${BASE}/auth/github?return=${encodeURIComponent(RETURN)}`);
    expect(res.status).toBe(302);
    const url = new URL(res.headers.get('location') ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(`${GITHUB_WEB}/login/oauth/authorize`);
    expect(url.searchParams.get('client_id')).toBe(SIGNIN_ENV.GITHUB_APP_CLIENT_ID);
    expect(url.searchParams.get('redirect_uri')).toBe(`${BASE}/auth/github/callback`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')?.length).toBeGreaterThanOrEqual(20);
    expect(url.href).not.toContain(SIGNIN_ENV.GITHUB_APP_CLIENT_SECRET ?? 'x');
    const cookie = setCookieLine(res, FLOW) ?? '';
    expect(cookie).toMatch(/; Path=\/; Max-Age=600; HttpOnly; Secure; SameSite=Lax$/);
    // The verifier is in the signed cookie only: the URL carries its S256 hash.
    expect(cookie).not.toContain(url.searchParams.get('code_challenge') ?? 'x');
    const second = new URL((await relay(`${BASE}/auth/github?return=${encodeURIComponent(RETURN)}`)).headers.get('location') ?? '');
    expect(second.searchParams.get('state')).not.toBe(url.searchParams.get('state'));
    expect(second.searchParams.get('code_challenge')).not.toBe(url.searchParams.get('code_challenge'));
  });

  it('returns only to an approval page of this relay', async () => {
    for (const ret of ['', 'https://evil.test/approve/a.b.c', '//evil.test/approve/a.b.c', '/v1/gates', '/approve/a.b.c/../../x', '/approve/a.b', `/approve/a.b.c\nx`]) {
      const res = await relay(`${BASE}/auth/github?return=${encodeURIComponent(ret)}`);
      expect(res.status, ret).toBe(400);
      expect(await res.text()).toContain('return: must be the path of an approval page of this relay');
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('answers 503 naming the variables when sign-in is not configured, or misconfigured', async () => {
    const off = await relay(`${BASE}/auth/github?return=${encodeURIComponent(RETURN)}`, {}, SIGNIN_OFF_ENV);
    expect(off.status).toBe(503);
    expect(await off.text()).toContain('set GITHUB_APP_CLIENT_ID and GITHUB_APP_CLIENT_SECRET');
    const noSecret = await relay(`${BASE}/auth/github?return=${encodeURIComponent(RETURN)}`, {}, { ...SIGNIN_ENV, GITHUB_APP_CLIENT_SECRET: '' });
    expect(noSecret.status).toBe(503);
    expect(await noSecret.text()).toContain('GITHUB_APP_CLIENT_ID is set but GITHUB_APP_CLIENT_SECRET is not');
    const noApp = await relay(`${BASE}/auth/github/callback?state=x&code=y`, {}, { ...SIGNIN_ENV, GITHUB_APP_ID: '' , GITHUB_APP_PRIVATE_KEY: '' });
    expect(noApp.status).toBe(503);
    expect(await noApp.text()).toContain('sign-in needs the GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY)');
    const badServer = await relay(`${BASE}/auth/github?return=${encodeURIComponent(RETURN)}`, {}, { ...SIGNIN_ENV, GITHUB_SERVER_URL: 'github.test' });
    expect(await badServer.text()).toContain('GITHUB_SERVER_URL is not an http(s) origin');
  });
});

describe('GET /auth/github/callback', () => {
  it('signs in: a session cookie with the GitHub login and id, the flow cookie cleared, back to the page', async () => {
    const login = newLogin('Mona');
    const { flowCookie, callback } = await startSignIn(RETURN, login);
    const res = await relay(callback, { headers: { cookie: flowCookie } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(RETURN);
    expect(setCookieLine(res, SESSION)).toMatch(/; Path=\/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax$/);
    expect(setCookieLine(res, FLOW)).toMatch(/^__Host-hookgate-oauth=; Path=\/; Max-Age=0;/);
    const person = await readSession(CALLBACK_SECRET, BASE, cookieOf(res, SESSION) ?? '');
    expect(person?.login).toBe(login);
    expect(person?.id).toMatch(/^\d+$/);
    // The user's token is used once and kept nowhere the browser sees.
    expect(res.headers.getSetCookie().join('\n')).not.toMatch(/gho_/);
  });

  it('refuses a callback without the flow cookie, without state, or with another state; no session', async () => {
    const { flowCookie, callback } = await startSignIn(RETURN, newLogin());
    const url = new URL(callback);
    const state = url.searchParams.get('state') ?? '';
    const otherState = new URL(url);
    otherState.searchParams.set('state', `${url.searchParams.get('state') ?? ''}x`);
    const noState = new URL(url);
    noState.searchParams.delete('state');
    const other = await startSignIn(RETURN, newLogin());
    const cases: [string, string, string][] = [
      ['no cookie', url.href, ''],
      ['no state', noState.href, flowCookie],
      ['another state', otherState.href, flowCookie],
      ['another sign-in’s cookie', url.href, other.flowCookie],
      ['an altered cookie', url.href, `${flowCookie.slice(0, -2)}${flowCookie.endsWith('A') ? 'B' : 'A'}x`],
      ['another relay’s cookie with this state', url.href, `${FLOW}=${await mintFlow('another-secret', BASE, { state, verifier: 'v', ret: RETURN })}`],
      ['another origin’s cookie with this state', url.href, `${FLOW}=${await mintFlow(CALLBACK_SECRET, 'https://other.test', { state, verifier: 'v', ret: RETURN })}`],
    ];
    for (const [label, href, cookie] of cases) {
      const res = await relay(href, cookie ? { headers: { cookie } } : {});
      expect(res.status, label).toBe(400);
      expect(cookieOf(res, SESSION), label).toBeNull();
      expect(res.headers.get('location'), label).toBeNull();
    }
    // The genuine pair still works: the refusals spent nothing.
    expect((await relay(url.href, { headers: { cookie: flowCookie } })).status).toBe(302);
  });

  it('refuses a replayed callback (cookie, state and code again): the code is spent', async () => {
    const { flowCookie, callback } = await startSignIn(RETURN, newLogin());
    expect((await relay(callback, { headers: { cookie: flowCookie } })).status).toBe(302);
    const replay = await relay(callback, { headers: { cookie: flowCookie } });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('GitHub refused this sign-in (bad_verification_code)');
    expect(cookieOf(replay, SESSION)).toBeNull();
  });

  it('exchanges the code with the verifier of the challenge: another verifier is refused by GitHub', async () => {
    const { callback } = await startSignIn(RETURN, newLogin());
    const state = new URL(callback).searchParams.get('state') ?? '';
    // A genuine flow cookie of this relay, but with another verifier than the challenge was made from.
    const cookie = `${FLOW}=${await mintFlow(CALLBACK_SECRET, BASE, { state, verifier: 'another-verifier-0123456789', ret: RETURN })}`;
    const res = await relay(callback, { headers: { cookie } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('GitHub refused this sign-in (bad_verification_code)');
    expect(cookieOf(res, SESSION)).toBeNull();
  });

  it('never shows the client secret, even when GitHub refuses it', async () => {
    const { flowCookie, callback } = await startSignIn(RETURN, newLogin());
    const res = await relay(callback, { headers: { cookie: flowCookie } }, { ...SIGNIN_ENV, GITHUB_APP_CLIENT_SECRET: 'wrong-secret' });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('incorrect_client_credentials');
    expect(text).not.toContain('wrong-secret');
    expect(text).not.toContain(SIGNIN_ENV.GITHUB_APP_CLIENT_SECRET ?? 'x');
  });

  it('says what GitHub answered when the person declined', async () => {
    const { flowCookie, callback } = await startSignIn(RETURN, newLogin());
    const url = new URL(callback);
    url.searchParams.delete('code');
    url.searchParams.set('error', 'access_denied');
    const res = await relay(url.href, { headers: { cookie: flowCookie } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('GitHub did not sign you in (access_denied)');
  });
});

describe('POST /auth/logout', () => {
  it('clears the session and returns to the page; refuses another origin', async () => {
    const session = await signIn(newLogin(), RETURN);
    const post = (origin: string, body: string): Promise<Response> =>
      relay(`${BASE}/auth/logout`, { method: 'POST', headers: { cookie: session, origin, 'content-type': 'application/x-www-form-urlencoded' }, body });
    const res = await post(BASE, `return=${encodeURIComponent(RETURN)}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(RETURN);
    expect(setCookieLine(res, SESSION)).toMatch(/^__Host-hookgate-session=; Path=\/; Max-Age=0;/);
    const elsewhere = await post(BASE, 'return=https%3A%2F%2Fevil.test%2F');
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get('location')).toBeNull();
    expect((await post('https://evil.test', '')).status).toBe(403);
  });
});

describe('GET /healthz signIn', () => {
  it('says configured, not configured or misconfigured, never a secret', async () => {
    const cases = [
      [SIGNIN_ENV, 'configured'],
      [SIGNIN_OFF_ENV, 'not configured'],
      [{ ...SIGNIN_ENV, GITHUB_APP_CLIENT_ID: '' }, 'misconfigured'],
      [{ ...SIGNIN_ENV, GITHUB_APP_ID: '', GITHUB_APP_PRIVATE_KEY: '' }, 'misconfigured'],
    ] as const;
    for (const [bindings, status] of cases) {
      const res = await relay(`${BASE}/healthz`, {}, bindings);
      const text = await res.text();
      expect(Health.parse(JSON.parse(text)).signIn).toBe(status);
      expect(text).not.toContain(SIGNIN_ENV.GITHUB_APP_CLIENT_SECRET ?? 'x');
    }
  });
});

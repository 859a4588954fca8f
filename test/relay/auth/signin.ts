/**
 * Sign-in in the relay tests: the app with sign-in configured against the fake GitHub
 * (test/support/relay-outbound/github-oauth.ts), and a browser's walk through the OAuth flow.
 * The relay's other tests run without sign-in, so these call the app with their own bindings.
 */
import { env } from 'cloudflare:test';
import { expect } from 'vitest';
import { app } from '../../../relay/worker/app.ts';
import type { Env } from '../../../relay/worker/env.ts';
import { mintCsrf } from '../../../relay/approval/csrf.ts';
import { approvalTokenOf, BASE, CALLBACK_SECRET } from '../helpers.ts';
import type { OpenedPage } from '../helpers.ts';

/** The fake GitHub's web and API origins. */
export const GITHUB_WEB = 'https://github.test';
export const GITHUB_API = 'https://api.github.test';

/** The relay's bindings with sign-in configured (one object: the relay parses each env once). */
export const SIGNIN_ENV: Env = { ...env, GITHUB_APP_CLIENT_ID: env.SIGNIN_TEST_CLIENT_ID, GITHUB_APP_CLIENT_SECRET: env.SIGNIN_TEST_CLIENT_SECRET };

/** A request to the relay with sign-in configured (or with `bindings`). */
export async function relay(url: string, init: RequestInit = {}, bindings: Env = SIGNIN_ENV): Promise<Response> {
  return app.request(url, { redirect: 'manual', ...init }, bindings);
}

/** A repository name no other test uses (the fakes keep state per repository and login). */
export function newRepository(): string {
  return `acme/signin-${crypto.randomUUID().slice(0, 8)}`;
}

/** A login no other test uses. */
export function newLogin(prefix = 'user'): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Scripts the fake's people: `users` {login: GitHub user id}, `teams` {"org/team": [logins]}, `permissions` {"owner/repo": {login: permission}}. */
export async function scriptPeople(people: {
  users?: Record<string, number>;
  teams?: Record<string, string[]>;
  permissions?: Record<string, Record<string, string>>;
}): Promise<void> {
  const res = await fetch(`${GITHUB_API}/_control/people`, { method: 'POST', body: JSON.stringify(people) });
  expect(res.status).toBe(200);
}

/** How many membership and permission questions the relay asked the fake about `login`. */
export async function questionsAbout(login: string): Promise<number> {
  const res = await fetch(`${GITHUB_API}/_control/people/log?login=${login}`);
  return ((await res.json()) as { questions: number }).questions;
}

/** The `name=value` of Set-Cookie `name` in a response, or null. */
export function cookieOf(res: Response, name: string): string | null {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return cookie ? cookie.split(';')[0] ?? null : null;
}

/** The whole Set-Cookie line of `name`, or null. */
export function setCookieLine(res: Response, name: string): string | null {
  return res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`)) ?? null;
}

/** The first steps of a sign-in: the relay's 302 to GitHub, and GitHub's 302 back (as `login`). */
export async function startSignIn(returnPath: string, login: string): Promise<{ flowCookie: string; callback: string; authorize: URL }> {
  const start = await relay(`${BASE}/auth/github?${new URLSearchParams({ return: returnPath })}`);
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.get('location') ?? '');
  const flowCookie = cookieOf(start, '__Host-hookgate-oauth');
  expect(flowCookie).not.toBeNull();
  const signedIn = new URL(authorize);
  signedIn.searchParams.set('login', login);
  const back = await fetch(signedIn, { redirect: 'manual' });
  expect(back.status).toBe(302);
  return { flowCookie: flowCookie ?? '', callback: back.headers.get('location') ?? '', authorize };
}

/** Signs `login` in through the whole flow; the session cookie as `name=value`. */
export async function signIn(login: string, returnPath = '/approve/a.b.c'): Promise<string> {
  const { flowCookie, callback } = await startSignIn(returnPath, login);
  const res = await relay(callback, { headers: { cookie: flowCookie } });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe(returnPath);
  const session = cookieOf(res, '__Host-hookgate-session');
  expect(session).not.toBeNull();
  return session ?? '';
}

/** An approval page as a browser signed in with `session` gets it (or signed out with null). */
export async function openAs(url: string, session: string | null, bindings: Env = SIGNIN_ENV): Promise<OpenedPage> {
  const res = await relay(url, session ? { headers: { cookie: session } } : {}, bindings);
  const html = await res.text();
  const nonce = /hookgate_csrf=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? null;
  const csrf = /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? null;
  return { res, html, nonce, csrf };
}

/**
 * Posts the form of `opened` as that browser: its csrf field and cookie, the session when given.
 * `csrf` stands in for a page that showed no form (a browser cannot post one; a forger could).
 */
export async function postAs(url: string, session: string | null, fields: Record<string, string>, opened?: OpenedPage, bindings: Env = SIGNIN_ENV): Promise<Response> {
  const page = opened ?? (await openAs(url, session, bindings));
  const nonce = page.nonce ?? '';
  const gateId = approvalTokenOf(url).split('.')[1] ?? '';
  const csrf = page.csrf ?? (await mintCsrf(CALLBACK_SECRET, gateId, nonce));
  const cookies = [`hookgate_csrf=${nonce}`, ...(session ? [session] : [])];
  return relay(
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: BASE, cookie: cookies.join('; ') },
      body: new URLSearchParams({ csrf, comment: '', ...fields }).toString(),
    },
    bindings,
  );
}

/** The relay's bindings without sign-in (as SELF has them). */
export const SIGNIN_OFF_ENV: Env = { ...env };

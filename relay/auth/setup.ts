/**
 * Sign in with GitHub (issue 12, SPEC §10): secrets GITHUB_APP_CLIENT_ID and
 * GITHUB_APP_CLIENT_SECRET (the App's user authorization), var GITHUB_SERVER_URL (GitHub's web
 * origin, where the OAuth pages are). Sign-in is configured when both secrets are set and the
 * App is too (its installation token checks teams and write access). Messages name what is
 * wrong, never a secret's value.
 */
import { appSetup } from '../github/app-config.ts';
import type { GitHubApp } from '../github/app-config.ts';
import type { Env } from '../worker/env.ts';
import { httpError } from '../worker/http.ts';

const DEFAULT_SERVER_URL = 'https://github.com';
/** An App's client id (`Iv1.…`, `Iv23…`) or an OAuth App's: letters, digits and dots. */
const CLIENT_ID = /^[0-9A-Za-z.]{1,100}$/;

/** What sign-in needs: the OAuth client, GitHub's web origin and the App. */
export type SignIn = { clientId: string; clientSecret: string; serverUrl: string; app: GitHubApp };

/** The sign-in setup (`signIn` set only when `configured`), with a message for GET /healthz. */
export type SignInSetup =
  | { status: 'configured'; signIn: SignIn; message: string }
  | { status: 'not configured' | 'misconfigured'; signIn: null; message: string };

/** The sign-in setup of `env`. */
export function signInSetup(env: Env): SignInSetup {
  const clientId = (env.GITHUB_APP_CLIENT_ID ?? '').trim();
  const clientSecret = (env.GITHUB_APP_CLIENT_SECRET ?? '').trim();
  const serverUrl = (env.GITHUB_SERVER_URL ?? '').trim().replace(/\/+$/, '') || DEFAULT_SERVER_URL;
  if (clientId === '' && clientSecret === '') {
    const message = 'no sign-in (GITHUB_APP_CLIENT_ID, GITHUB_APP_CLIENT_SECRET): the approval link is the only credential';
    return { status: 'not configured', signIn: null, message };
  }
  const problem = configProblem(clientId, clientSecret, serverUrl);
  if (problem !== null) return { status: 'misconfigured', signIn: null, message: `${problem}: no one can decide on approval pages` };
  const app = appSetup(env);
  if (app.status !== 'configured') {
    const message = `sign-in needs the GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY), which is ${app.status}: no one can decide on approval pages`;
    return { status: 'misconfigured', signIn: null, message };
  }
  return { status: 'configured', signIn: { clientId, clientSecret, serverUrl, app: app.app }, message: `sign-in with GitHub at ${serverUrl}` };
}

function configProblem(clientId: string, clientSecret: string, serverUrl: string): string | null {
  if (clientId === '') return 'GITHUB_APP_CLIENT_SECRET is set but GITHUB_APP_CLIENT_ID is not';
  if (clientSecret === '') return 'GITHUB_APP_CLIENT_ID is set but GITHUB_APP_CLIENT_SECRET is not';
  if (!CLIENT_ID.test(clientId)) return 'GITHUB_APP_CLIENT_ID is not a GitHub App client id';
  const url = URL.parse(serverUrl);
  if (url?.protocol.match(/^https?:$/) == null || url.pathname !== '/') return 'GITHUB_SERVER_URL is not an http(s) origin';
  return null;
}

/** Sign-in for a route that needs it: 503 `misconfigured` naming what is missing or wrong. */
export function requireSignIn(env: Env): SignIn {
  const setup = signInSetup(env);
  if (setup.signIn) return setup.signIn;
  const message =
    setup.status === 'not configured'
      ? 'sign-in is not configured on this relay: set GITHUB_APP_CLIENT_ID and GITHUB_APP_CLIENT_SECRET'
      : setup.message;
  throw httpError(503, 'misconfigured', message);
}

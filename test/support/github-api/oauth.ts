/**
 * Sign in with GitHub as GitHub answers it (a GitHub App's user authorization, web flow with PKCE):
 * `GET /login/oauth/authorize` (the "Sign in as" page, or a 302 at once for the user a test chose),
 * `POST /login/oauth/access_token` (client id and secret in the body or as Basic credentials, the
 * code single-use and good for 10 minutes, `redirect_uri` as authorized, the `code_verifier`
 * against the S256 challenge; GitHub answers its errors 200 with `{error, error_description}`),
 * and `GET /user` with the user's token (`ghu_…`, 8 hours).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FakeOAuthOptions } from './app-types.ts';
import { errorPage, signInPage } from './oauth-page.ts';
import type { Directory, FakeUser } from './people.ts';
import { Refusal } from './types.ts';
import type { Answer } from './types.ts';

/** GitHub's codes expire after 10 minutes; its App user tokens after 8 hours. */
const CODE_MS = 10 * 60 * 1000;
const USER_TOKEN_SECONDS = 8 * 60 * 60;
const REFRESH_TOKEN_SECONDS = 184 * 24 * 60 * 60;
const DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

interface Code {
  clientId: string;
  /** The redirect_uri the authorize request named; null when it named none. */
  redirectUri: string | null;
  challenge: string | null;
  user: FakeUser;
  expiresAt: number;
  used: boolean;
}

export interface OAuthServer {
  /** `GET` or `POST /login/oauth/authorize` (`form`: the query, or the page's form). */
  authorize(method: string, form: URLSearchParams): Answer;
  /** `POST /login/oauth/access_token`. */
  accessToken(form: URLSearchParams, authorization: string, accept: string): Answer;
  /** `GET /user`: throws GitHub's refusal for anything but a live user token. */
  user(authorization: string, base: string): Answer;
  signInAs(login: string | null): void;
}

/** The server; `oauth` undefined answers the pages 404 (no App user authorization). */
export function oauthServer(oauth: FakeOAuthOptions | undefined, people: Directory, now: () => number): OAuthServer {
  const codes = new Map<string, Code>();
  const userTokens = new Map<string, { user: FakeUser; expiresAt: number }>();
  let automatic: string | null = null;
  return {
    signInAs: (login) => void (automatic = login),
    authorize(method, form) {
      if (!oauth || form.get('client_id') !== oauth.clientId) return errorPage(404, 'Not Found');
      const given = form.get('redirect_uri');
      const fallback = oauth.callbackUrls[0] ?? '';
      const state = form.get('state');
      const back = (redirect: string, params: Record<string, string>): Answer => {
        const url = new URL(redirect);
        for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
        if (state !== null) url.searchParams.set('state', state);
        return { status: 302, headers: { location: url.href } };
      };
      if (given !== null && !oauth.callbackUrls.includes(given)) {
        return back(fallback, { error: 'redirect_uri_mismatch', error_description: 'The redirect_uri MUST match the registered callback URL for this application.' });
      }
      const redirect = given ?? fallback;
      const challenge = form.get('code_challenge');
      if (challenge !== null && (form.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge))) {
        return errorPage(400, 'code_challenge_method must be S256, with a base64url SHA-256 code_challenge');
      }
      if (method === 'POST' && form.get('cancel') !== null) return back(redirect, { error: 'access_denied', error_description: 'The user has denied your application access.' });
      const login = method === 'POST' ? form.get('login') : automatic;
      if (login === null) return { status: 200, text: signInPage(form, people.logins(), oauth.clientId), headers: { 'content-type': 'text/html; charset=utf-8' } };
      const user = people.user(login);
      if (!user) return errorPage(422, `no user ${login}`);
      const code = randomBytes(10).toString('hex');
      codes.set(code, { clientId: oauth.clientId, redirectUri: given, challenge, user, expiresAt: now() + CODE_MS, used: false });
      return back(redirect, { code });
    },
    accessToken(form, authorization, accept) {
      const answer = (body: Record<string, string | number>): Answer =>
        /\bapplication\/json\b/.test(accept)
          ? { status: 200, body }
          : { status: 200, text: new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)])).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } };
      const error = (name: string, description: string): Answer => answer({ error: name, error_description: description, error_uri: `${DOCS}#${name.replaceAll('_', '-')}` });
      const [clientId, clientSecret] = clientCredentials(form, authorization);
      if (!oauth || clientId !== oauth.clientId || clientSecret !== oauth.clientSecret) {
        return error('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
      }
      const code = codes.get(form.get('code') ?? '');
      if (!code || code.used || code.expiresAt <= now() || code.clientId !== clientId) return error('bad_verification_code', 'The code passed is incorrect or expired.');
      const redirect = form.get('redirect_uri');
      if (redirect !== null && code.redirectUri !== null && redirect !== code.redirectUri) {
        return error('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
      }
      if (code.challenge !== null && s256(form.get('code_verifier') ?? '') !== code.challenge) {
        return error('bad_verification_code', 'The code_verifier does not match the code_challenge.');
      }
      code.used = true;
      const token = `ghu_${randomBytes(18).toString('base64url')}`;
      userTokens.set(token, { user: code.user, expiresAt: now() + USER_TOKEN_SECONDS * 1000 });
      return answer({
        access_token: token,
        expires_in: USER_TOKEN_SECONDS,
        refresh_token: `ghr_${randomBytes(30).toString('base64url')}`,
        refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
        scope: '',
        token_type: 'bearer',
      });
    },
    user(authorization, base) {
      if (!authorization) throw new Refusal(401, 'Requires authentication');
      const token = /^(?:Bearer|token)\s+(\S+)$/i.exec(authorization)?.[1] ?? '';
      // An installation token is no user: GitHub refuses /user to it.
      if (token.startsWith('ghs_')) throw new Refusal(403, 'Resource not accessible by integration');
      const known = userTokens.get(token);
      if (!known || known.expiresAt <= now()) throw new Refusal(401, 'Bad credentials');
      return { status: 200, body: people.userJson(known.user, base) };
    },
  };
}

/** The client's id and secret: HTTP Basic credentials, else the body's `client_id` and `client_secret`. */
function clientCredentials(form: URLSearchParams, authorization: string): [string | null, string | null] {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization)?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return [null, null];
    return [decoded.slice(0, colon), decoded.slice(colon + 1)];
  }
  return [form.get('client_id'), form.get('client_secret')];
}

/** The S256 code challenge of a verifier (RFC 7636 §4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

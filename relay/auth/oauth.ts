/**
 * GitHub's OAuth web flow with PKCE and `state`, through arctic's OAuth2Client (no hand-written
 * OAuth): the authorization URL on GITHUB_SERVER_URL, the code exchanged for the user's token,
 * which asks `GET /user` once and is dropped. Nothing here logs or returns the token.
 */
import { CodeChallengeMethod, generateCodeVerifier, generateState, OAuth2Client, OAuth2RequestError } from 'arctic';
import { currentUser, GitHubUnavailable } from '../github/people.ts';
import type { Person } from '../run/results.ts';
import type { SignIn } from './setup.ts';

/** Where GitHub sends the browser back, on this relay. */
export function callbackUrl(relayUrl: string): string {
  return `${relayUrl}/auth/github/callback`;
}

function client(signIn: SignIn, relayUrl: string): OAuth2Client {
  return new OAuth2Client(signIn.clientId, signIn.clientSecret, callbackUrl(relayUrl));
}

/** A new sign-in: its state, PKCE verifier and GitHub's authorization URL (S256 challenge, no scopes: identity only). */
export function startSignIn(signIn: SignIn, relayUrl: string): { state: string; verifier: string; url: URL } {
  const state = generateState();
  const verifier = generateCodeVerifier();
  const url = client(signIn, relayUrl).createAuthorizationURLWithPKCE(
    `${signIn.serverUrl}/login/oauth/authorize`,
    state,
    CodeChallengeMethod.S256,
    verifier,
    [],
  );
  return { state, verifier, url };
}

/** Why a sign-in failed: GitHub refused the code (`refused`, its error code), or could not be asked (`unavailable`). */
export type SignInFailure = { ok: false; reason: 'refused' | 'unavailable'; detail: string };

/** The person the code signs in: the code exchanged (with the verifier), then `GET /user`. */
export async function finishSignIn(signIn: SignIn, relayUrl: string, code: string, verifier: string): Promise<{ ok: true; person: Person } | SignInFailure> {
  let userToken: string;
  try {
    const tokens = await client(signIn, relayUrl).validateAuthorizationCode(`${signIn.serverUrl}/login/oauth/access_token`, code, verifier);
    // GitHub answers a refused code with 200 and `error` in the body: OAuth2Tokens has no token then.
    const data = tokens.data as { error?: unknown };
    if (typeof data.error === 'string') return { ok: false, reason: 'refused', detail: data.error.slice(0, 100) };
    userToken = tokens.accessToken();
  } catch (error) {
    if (error instanceof OAuth2RequestError) return { ok: false, reason: 'refused', detail: error.code.slice(0, 100) };
    return { ok: false, reason: 'unavailable', detail: 'the token exchange failed' };
  }
  try {
    const user = await currentUser(signIn.app, userToken);
    return { ok: true, person: { id: String(user.id), login: user.login } };
  } catch (error) {
    const detail = error instanceof GitHubUnavailable ? `GET /user: ${error.message}` : 'GET /user failed';
    return { ok: false, reason: 'unavailable', detail };
  }
}

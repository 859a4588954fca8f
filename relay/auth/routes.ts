/**
 * The sign-in routes (issue 12), mounted at /auth: `GET /github?return=` starts GitHub's web
 * flow, `GET /github/callback` finishes it (state checked in constant time against the flow
 * cookie's, code exchanged, session cookie set), `POST /logout` ends the session. They return
 * only to an approval page of this relay: no open redirect.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { messagePage } from '../approval/page.ts';
import { page } from '../approval/respond.ts';
import { callbackSecret, publicOrigin, publicUrl, soundConfig } from '../worker/config.ts';
import type { Env } from '../worker/env.ts';
import { readBody } from '../worker/http.ts';
import { secretsEqual } from '../tokens/crypto.ts';
import { finishSignIn, startSignIn } from './oauth.ts';
import { FLOW_COOKIE, FLOW_SECONDS, mintFlow, mintSession, readFlow, ReturnPath, SESSION_COOKIE, SESSION_SECONDS, setCookie } from './session.ts';
import { requireSignIn } from './setup.ts';

export const authRoutes = new Hono<{ Bindings: Env }>();

authRoutes.onError((error) => {
  if (error instanceof HTTPException) {
    const title = error.status === 503 ? 'Relay misconfigured' : 'Request refused';
    return page(error.status, messagePage(title, error.status === 413 ? 'The form is too large.' : error.message));
  }
  console.error('sign-in error', error instanceof Error ? error.name : 'unknown');
  return page(500, messagePage('Something went wrong', 'The relay failed to handle this request. Try again.'));
});

authRoutes.get('/github', async (c) => {
  const config = soundConfig(c.env);
  const secret = callbackSecret(config);
  const signIn = requireSignIn(c.env);
  const ret = ReturnPath.safeParse(c.req.query('return'));
  if (!ret.success) return refused(400, 'return: must be the path of an approval page of this relay (/approve/…).');
  const relayUrl = publicUrl(config, c.req.url);
  const { state, verifier, url } = startSignIn(signIn, relayUrl);
  const flow = await mintFlow(secret, publicOrigin(config, c.req.url), { state, verifier, ret: ret.data });
  return page(302, '', { location: url.href }, [setCookie(FLOW_COOKIE, flow, FLOW_SECONDS)]);
});

authRoutes.get('/github/callback', async (c) => {
  const config = soundConfig(c.env);
  const secret = callbackSecret(config);
  const signIn = requireSignIn(c.env);
  const origin = publicOrigin(config, c.req.url);
  const flow = await readFlow(secret, origin, c.req.header('cookie'));
  const cleared = [setCookie(FLOW_COOKIE, '', 0)];
  if (!flow) return refused(400, 'This sign-in expired or did not start in this browser. Open the approval page and sign in again.', cleared);
  const state = c.req.query('state') ?? '';
  if (state === '' || !(await secretsEqual(state, flow.state))) {
    return refused(400, 'state: does not match this browser’s sign-in. Open the approval page and sign in again.', cleared);
  }
  const githubError = c.req.query('error');
  if (githubError !== undefined) return refused(400, `GitHub did not sign you in (${githubError.slice(0, 100)}).`, cleared);
  const code = c.req.query('code') ?? '';
  if (code === '' || code.length > 200) return refused(400, 'code: missing or too long.', cleared);
  const result = await finishSignIn(signIn, publicUrl(config, c.req.url), code, flow.verifier);
  if (!result.ok) {
    const text =
      result.reason === 'refused'
        ? `GitHub refused this sign-in (${result.detail}). Open the approval page and sign in again.`
        : `GitHub could not be asked who you are (${result.detail}). Try again.`;
    return refused(result.reason === 'refused' ? 400 : 502, text, cleared);
  }
  const session = await mintSession(secret, origin, result.person);
  return page(302, '', { location: flow.ret }, [...cleared, setCookie(SESSION_COOKIE, session, SESSION_SECONDS)]);
});

authRoutes.post('/logout', async (c) => {
  const config = soundConfig(c.env);
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== publicOrigin(config, c.req.url)) return refused(403, 'This sign-out did not come from this relay’s pages.');
  const ret = ReturnPath.safeParse(new URLSearchParams(await readBody(c)).get('return') ?? undefined);
  const cleared = [setCookie(SESSION_COOKIE, '', 0)];
  if (!ret.success) return page(200, messagePage('Signed out', 'You are signed out of this relay.'), {}, cleared);
  return page(303, '', { location: ret.data }, cleared);
});

function refused(status: number, text: string, cookies: string[] = []): Response {
  return page(status, messagePage(status === 502 ? 'GitHub unavailable' : 'Sign-in refused', text), {}, cookies);
}

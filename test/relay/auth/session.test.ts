/**
 * The sign-in cookies (relay/auth/session.ts): a session or flow JWT reads back only on the
 * relay that made it, unaltered and unexpired; anything else is no session at all.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { cookieValue, FLOW_COOKIE, mintFlow, mintSession, readFlow, readSession, SESSION_COOKIE, setCookie } from '../../../relay/auth/session.ts';
import { hmacSign } from '../../../relay/tokens/crypto.ts';
import { alterChar } from '../helpers.ts';

const SECRET = 'session-test-secret';
const ORIGIN = 'https://relay.test';
const MONA = { id: '583231', login: 'mona' };
const FLOW = { state: 'state-1', verifier: 'verifier-1', ret: '/approve/a.b.c' };

function sessionCookie(token: string): string {
  return `other=1; ${SESSION_COOKIE}=${token}`;
}

/** A session JWT as the relay mints one but with its own times (seconds since the epoch). */
async function sessionAt(iat: number, exp: number, secret = SECRET): Promise<string> {
  return new SignJWT({ login: MONA.login })
    .setProtectedHeader({ alg: 'HS256', typ: 'hookgate-session+jwt' })
    .setIssuer(ORIGIN)
    .setAudience(ORIGIN)
    .setSubject(MONA.id)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(await hmacSign(secret, 'session'));
}

describe('the session cookie', () => {
  it('reads back the person on the relay that made it', async () => {
    const token = await mintSession(SECRET, ORIGIN, MONA);
    expect(await readSession(SECRET, ORIGIN, sessionCookie(token))).toEqual(MONA);
    // Its own forgery of the mint (same key, same claims) reads too: the check is the key, not the code.
    const now = Math.floor(Date.now() / 1000);
    expect(await readSession(SECRET, ORIGIN, sessionCookie(await sessionAt(now, now + 60)))).toEqual(MONA);
  });

  it('is none when expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await readSession(SECRET, ORIGIN, sessionCookie(await sessionAt(now - 9 * 3600, now - 3600)))).toBeNull();
  });

  it('is none when altered anywhere', async () => {
    const token = await mintSession(SECRET, ORIGIN, MONA);
    const [header = '', payload = ''] = token.split('.');
    for (const index of [5, header.length + 3, header.length + payload.length + 5, token.length - 2]) {
      expect(await readSession(SECRET, ORIGIN, sessionCookie(alterChar(token, index)))).toBeNull();
    }
    // Another login in the payload, the signature kept.
    const forged = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const body = btoa(JSON.stringify({ ...forged, login: 'hubot' })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    expect(await readSession(SECRET, ORIGIN, sessionCookie(`${header}.${body}.${token.split('.')[2] ?? ''}`))).toBeNull();
  });

  it('is none when another relay made it: another secret or another origin', async () => {
    expect(await readSession(SECRET, ORIGIN, sessionCookie(await mintSession('another-secret', ORIGIN, MONA)))).toBeNull();
    expect(await readSession(SECRET, ORIGIN, sessionCookie(await mintSession(SECRET, 'https://other-relay.test', MONA)))).toBeNull();
  });

  it('is none when it is a flow cookie’s JWT, or absent, or empty', async () => {
    const flow = await mintFlow(SECRET, ORIGIN, FLOW);
    expect(await readSession(SECRET, ORIGIN, sessionCookie(flow))).toBeNull();
    expect(await readSession(SECRET, ORIGIN, undefined)).toBeNull();
    expect(await readSession(SECRET, ORIGIN, `${SESSION_COOKIE}=`)).toBeNull();
    expect(await readSession(SECRET, ORIGIN, 'hookgate_csrf=abc')).toBeNull();
  });
});

describe('the flow cookie', () => {
  it('reads back the state, verifier and return path only on its relay, unaltered and unexpired', async () => {
    const token = await mintFlow(SECRET, ORIGIN, FLOW);
    expect(await readFlow(SECRET, ORIGIN, `${FLOW_COOKIE}=${token}`)).toEqual(FLOW);
    expect(await readFlow('another-secret', ORIGIN, `${FLOW_COOKIE}=${token}`)).toBeNull();
    expect(await readFlow(SECRET, 'https://other-relay.test', `${FLOW_COOKIE}=${token}`)).toBeNull();
    expect(await readFlow(SECRET, ORIGIN, `${FLOW_COOKIE}=${alterChar(token, token.length - 3)}`)).toBeNull();
    // A session JWT is no flow.
    expect(await readFlow(SECRET, ORIGIN, `${FLOW_COOKIE}=${await mintSession(SECRET, ORIGIN, MONA)}`)).toBeNull();
  });

  it('never holds a return path other than an approval page', async () => {
    for (const ret of ['https://evil.test/approve/a.b.c', '//evil.test/approve/a.b.c', '/v1/gates', '/approve/../v1/runs']) {
      await expect(mintFlow(SECRET, ORIGIN, { ...FLOW, ret }).then((t) => readFlow(SECRET, ORIGIN, `${FLOW_COOKIE}=${t}`))).resolves.toBeNull();
    }
  });
});

describe('cookie helpers', () => {
  it('reads one cookie of a header and writes __Host- cookies as HttpOnly, Secure, Lax, Path=/', () => {
    expect(cookieValue('a=1; b=2=3;c=4', 'b')).toBe('2=3');
    expect(cookieValue('a=1', 'b')).toBeNull();
    expect(setCookie(SESSION_COOKIE, 'v', 60)).toBe(`${SESSION_COOKIE}=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax`);
  });
});

/**
 * The sign-in's two cookies, both JWTs (HS256 with jose: no hand-written JWT) whose `iss` and
 * `aud` are the relay's public origin and whose key is HMAC(CALLBACK_SECRET, purpose): another
 * relay's cookie (other secret or other origin), an altered or an expired one reads as none.
 * - `__Host-hookgate-session`: the signed-in person (`sub` = GitHub user id, `login`), 8 hours.
 * - `__Host-hookgate-oauth`: one sign-in under way (state, PKCE verifier, return path), 10 minutes.
 * `__Host-` cookies are Secure, Path=/ and host-only: no subdomain sets or reads them.
 */
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { hmacSign } from '../tokens/crypto.ts';
import type { Person } from '../run/results.ts';

export const SESSION_COOKIE = '__Host-hookgate-session';
export const FLOW_COOKIE = '__Host-hookgate-oauth';
/** How long a sign-in lasts. */
export const SESSION_SECONDS = 8 * 60 * 60;
/** How long a sign-in may take on GitHub's pages. */
export const FLOW_SECONDS = 10 * 60;

/** A GitHub login: letters, digits and single hyphens, at most 39 characters. */
export const Login = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/);
/** A path sign-in may return to: an approval page of this relay (a gate token), nothing else. */
export const ReturnPath = z.string().max(1000).regex(/^\/approve\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

const SessionClaims = z.object({ sub: z.string().regex(/^\d{1,20}$/), login: Login });
const FlowClaims = z.object({ state: z.string().min(1).max(200), verifier: z.string().min(1).max(200), ret: ReturnPath });

/** A sign-in under way: what the callback checks and where it returns. */
export type Flow = z.infer<typeof FlowClaims>;

type Purpose = 'session' | 'oauth-flow';

async function key(secret: string, purpose: Purpose): Promise<Uint8Array> {
  return hmacSign(secret, purpose);
}

async function mint(secret: string, origin: string, purpose: Purpose, claims: Record<string, string>, seconds: number, sub?: string): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: `hookgate-${purpose}+jwt` })
    .setIssuer(origin)
    .setAudience(origin)
    .setIssuedAt()
    .setExpirationTime(`${seconds}s`);
  if (sub !== undefined) jwt.setSubject(sub);
  return jwt.sign(await key(secret, purpose));
}

async function verify(secret: string, origin: string, purpose: Purpose, token: string): Promise<unknown> {
  try {
    const { payload } = await jwtVerify(token, await key(secret, purpose), {
      algorithms: ['HS256'],
      issuer: origin,
      audience: origin,
      typ: `hookgate-${purpose}+jwt`,
      requiredClaims: ['exp', 'iat'],
    });
    return payload;
  } catch {
    return null;
  }
}

/** The value of cookie `name` in a Cookie header, or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [cookie, ...value] = part.split('=');
    if (cookie?.trim() === name) return value.join('=').trim();
  }
  return null;
}

/** A session JWT for `person`, valid SESSION_SECONDS on this relay. */
export function mintSession(secret: string, origin: string, person: Person): Promise<string> {
  return mint(secret, origin, 'session', { login: person.login }, SESSION_SECONDS, person.id);
}

/** The person of the request's session cookie; null for none, or one expired, altered or another relay's. */
export async function readSession(secret: string, origin: string, cookieHeader: string | undefined): Promise<Person | null> {
  const token = cookieValue(cookieHeader, SESSION_COOKIE);
  if (!token) return null;
  const claims = SessionClaims.safeParse(await verify(secret, origin, 'session', token));
  return claims.success ? { id: claims.data.sub, login: claims.data.login } : null;
}

/** A flow JWT for a sign-in starting now. */
export function mintFlow(secret: string, origin: string, flow: Flow): Promise<string> {
  return mint(secret, origin, 'oauth-flow', flow, FLOW_SECONDS);
}

/** The sign-in under way of the request's flow cookie; null for none, or one expired, altered or another relay's. */
export async function readFlow(secret: string, origin: string, cookieHeader: string | undefined): Promise<Flow | null> {
  const token = cookieValue(cookieHeader, FLOW_COOKIE);
  if (!token) return null;
  const claims = FlowClaims.safeParse(await verify(secret, origin, 'oauth-flow', token));
  return claims.success ? claims.data : null;
}

/** Set-Cookie for `name`: `value` for `seconds`, or cleared with seconds 0. */
export function setCookie(name: string, value: string, seconds: number): string {
  return `${name}=${value}; Path=/; Max-Age=${seconds}; HttpOnly; Secure; SameSite=Lax`;
}

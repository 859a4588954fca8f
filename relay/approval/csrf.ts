/**
 * The approval form's anti-forgery token (SPEC §4): a random nonce in an HttpOnly,
 * SameSite=Strict cookie, and in the form HMAC(CALLBACK_SECRET, purpose, gateId, nonce).
 * A POST decides only with both, so a form on another site, a replayed form of
 * another gate, or a bare POST to the URL is refused.
 */
import { fromBase64Url, hmacSign, hmacVerify, randomId, toBase64Url } from '../tokens/crypto.ts';

const CSRF_COOKIE = 'hookgate_csrf';
/** Differs from the gate tokens' purposes: no token of one kind verifies as another. */
const PURPOSE = 'hookgate-approval-form-v1';
const NONCE = /^[A-Za-z0-9_-]{22}$/;
const DUMMY_MAC = new Uint8Array(32);

function macInput(gateId: string, nonce: string): string {
  return `${PURPOSE}\n${gateId}\n${nonce}`;
}

/**
 * The nonce of the request's cookie if it has a well-formed one, else a fresh one. Keeping a
 * browser's nonce lets several approval pages open in one browser all stay valid; the form
 * token still binds each page to its own gate.
 */
export function csrfNonce(cookieHeader: string | undefined): string {
  return readNonce(cookieHeader) ?? randomId(16);
}

/** The well-formed `hookgate_csrf` nonce of a Cookie header, or null. */
export function readNonce(cookieHeader: string | undefined): string | null {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, ...value] = part.split('=');
    if (name?.trim() !== CSRF_COOKIE) continue;
    const nonce = value.join('=').trim();
    if (NONCE.test(nonce)) return nonce;
  }
  return null;
}

/** The Set-Cookie value carrying the nonce; `Secure` whenever the page is served over https. */
export function csrfCookie(nonce: string, secure: boolean): string {
  return `${CSRF_COOKIE}=${nonce}; Path=/approve; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The form's token for one gate and nonce. */
export async function mintCsrf(secret: string, gateId: string, nonce: string): Promise<string> {
  return toBase64Url(await hmacSign(secret, macInput(gateId, nonce)));
}

/** True when `token` is the form token of this gate and cookie nonce; constant time, one verify whatever the input. */
export async function verifyCsrf(
  secret: string,
  gateId: string,
  nonce: string | null,
  token: string | null,
): Promise<boolean> {
  const mac = token === null ? null : fromBase64Url(token);
  const wellFormed = nonce !== null && mac !== null && mac.length === 32;
  const valid = await hmacVerify(secret, macInput(gateId, nonce ?? ''), wellFormed ? mac : DUMMY_MAC);
  return valid && wellFormed;
}

/** The approval form's anti-forgery token (relay/approval/csrf.ts). */
import { describe, expect, it } from 'vitest';
import { csrfCookie, csrfNonce, mintCsrf, readNonce, verifyCsrf } from '../../../relay/approval/csrf.ts';
import { mintGateToken } from '../../../relay/tokens/gate-token.ts';
import { alterChar } from '../helpers.ts';

const SECRET = 'csrf-test-secret';
const GATE_ID = 'AbCdEfGhIjKlMnOpQrStUv';
const NONCE = 'n0nce-n0nce-n0nce-n0nc';

describe('csrf tokens', () => {
  it('verify for the gate and nonce they were minted for, and no other', async () => {
    const token = await mintCsrf(SECRET, GATE_ID, NONCE);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await verifyCsrf(SECRET, GATE_ID, NONCE, token)).toBe(true);
    expect(await verifyCsrf(SECRET, 'ZyXwVuTsRqPoNmLkJiHgFe', NONCE, token)).toBe(false);
    expect(await verifyCsrf(SECRET, GATE_ID, 'other-nonce-other-nonc', token)).toBe(false);
    expect(await verifyCsrf('another-secret', GATE_ID, NONCE, token)).toBe(false);
    expect(await verifyCsrf(SECRET, GATE_ID, null, token)).toBe(false);
    for (const bad of [null, '', 'x', alterChar(token, 0), `${token}A`, token.slice(0, -1)]) {
      expect(await verifyCsrf(SECRET, GATE_ID, NONCE, bad), String(bad)).toBe(false);
    }
  });

  it('differ from the gate tokens’ MACs: no token of one kind verifies as another', async () => {
    const approval = await mintGateToken(SECRET, 'approval', 'acme/app/1', GATE_ID);
    const mac = approval.split('.')[2] ?? '';
    expect(await verifyCsrf(SECRET, GATE_ID, NONCE, mac)).toBe(false);
  });
});

describe('the csrf cookie', () => {
  it('is HttpOnly, SameSite=Strict, scoped to /approve, and Secure over https', () => {
    expect(csrfCookie(NONCE, true)).toBe(`hookgate_csrf=${NONCE}; Path=/approve; HttpOnly; SameSite=Strict; Secure`);
    expect(csrfCookie(NONCE, false)).toBe(`hookgate_csrf=${NONCE}; Path=/approve; HttpOnly; SameSite=Strict`);
  });

  it('is read back only when well-formed', () => {
    expect(readNonce(`a=1; hookgate_csrf=${NONCE}; b=2`)).toBe(NONCE);
    expect(readNonce(`hookgate_csrf=${NONCE}`)).toBe(NONCE);
    const malformed = ['', 'hookgate_csrf=', 'hookgate_csrf=short', `hookgate_csrf=${NONCE}x`, `xhookgate_csrf=${NONCE}`];
    for (const header of [undefined, ...malformed]) {
      expect(readNonce(header), String(header)).toBeNull();
    }
  });

  it('keeps a browser’s nonce and mints a fresh random one otherwise', () => {
    expect(csrfNonce(`hookgate_csrf=${NONCE}`)).toBe(NONCE);
    const a = csrfNonce(undefined);
    const b = csrfNonce('hookgate_csrf=bad');
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(b).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
  });
});

/**
 * Authentication of the action (relay/worker/auth.ts): GitHub Actions OIDC tokens verified against the
 * test issuer's keys (vitest.config.ts), ALLOWED_REPOSITORIES, and RELAY_TOKEN beside them.
 */
import { env, SELF } from 'cloudflare:test';
import { base64url, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { app } from '../../../relay/worker/app.ts';
import { relayConfig } from '../../../relay/worker/config.ts';
import { authHeaders, BASE, expectError, gateRequest, getGate, postRegister, register } from '../helpers.ts';
import { claimsOf, ISSUER, oidcHeaders, oidcToken, REPO_A, REPO_CASED, REPO_EVIL, REPO_WILD, sign } from '../oidc.ts';
import type { Repo } from '../oidc.ts';

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

/** Registers a gate with `token`; the answer, whose text must not contain the token. */
async function registerWith(token: string, relayEnv: Partial<Cloudflare.Env> = {}): Promise<Response> {
  const init = { method: 'POST', headers: bearer(token), body: JSON.stringify(gateRequest()) };
  const res = await app.request(`${BASE}/v1/gates`, init, { ...env, ...relayEnv });
  const text = await res.clone().text();
  expect(text).not.toContain(token);
  return res;
}

async function expectRefused(token: string, message: RegExp, relayEnv: Partial<Cloudflare.Env> = {}): Promise<void> {
  const body = await expectError(await registerWith(token, relayEnv), 401, 'unauthorized');
  expect(body.message).toMatch(message);
}

const now = (): number => Math.floor(Date.now() / 1000);

describe('a GitHub Actions OIDC token', () => {
  it('is admitted for an allowed repository, on every action route', async () => {
    const headers = await oidcHeaders(REPO_A);
    const res = await postRegister(gateRequest(), headers);
    expect(res.status).toBe(201);
    const gate = (await res.json()) as { runId: string; gateId: string };
    const read = await SELF.fetch(`${BASE}/v1/gates/${gate.gateId}?run=${encodeURIComponent(gate.runId)}`, { headers });
    expect(read.status).toBe(200);
  });

  it('is admitted with the audience spelled with a trailing slash', async () => {
    expect((await registerWith(await oidcToken(REPO_A, { aud: `${BASE}/` }))).status).toBe(201);
  });

  it('is admitted a little past exp or before nbf: clocks differ by seconds', async () => {
    expect((await registerWith(await oidcToken(REPO_A, { exp: now() - 20 }))).status).toBe(201);
    expect((await registerWith(await oidcToken(REPO_A, { nbf: now() + 20 }))).status).toBe(201);
  });

  it('is refused 401 once expired', async () => {
    await expectRefused(await oidcToken(REPO_A, { iat: now() - 900, nbf: now() - 900, exp: now() - 120 }), /expired/);
  });

  it('is refused 401 before it is valid', async () => {
    await expectRefused(await oidcToken(REPO_A, { nbf: now() + 300, exp: now() + 600 }), /not valid yet/);
  });

  it('is refused 401 without exp', async () => {
    const claims = claimsOf(REPO_A);
    delete claims.exp;
    await expectRefused(await sign(claims), /no exp claim/);
  });

  it('is refused 401 for another audience, naming the one expected', async () => {
    const token = await oidcToken(REPO_A, { aud: 'https://github.com/acme' });
    const body = await expectError(await registerWith(token), 401, 'unauthorized');
    expect(body.message).toContain('audience');
    expect(body.message).toContain(`expected ${BASE}`);
  });

  it('takes the audience from OIDC_AUDIENCE, else PUBLIC_URL, else the origin called', async () => {
    const custom = 'https://relay.example.com/hookgate';
    expect((await registerWith(await oidcToken(REPO_A, { aud: custom }), { OIDC_AUDIENCE: custom })).status).toBe(201);
    await expectRefused(await oidcToken(REPO_A), /expected https:\/\/relay\.example\.com\/hookgate/, { OIDC_AUDIENCE: custom });
    const publicUrl = 'https://public.example.com/';
    const viaPublic = await oidcToken(REPO_A, { aud: 'https://public.example.com' });
    expect((await registerWith(viaPublic, { PUBLIC_URL: publicUrl })).status).toBe(201);
  });

  it('is refused 401 from another issuer, naming the one expected', async () => {
    const token = await oidcToken(REPO_A, { iss: 'https://token.actions.evil.test' });
    const body = await expectError(await registerWith(token), 401, 'unauthorized');
    expect(body.message).toContain(`not by ${ISSUER}`);
  });

  it('is refused 401 when signed by another key, under the issuer key’s kid or another', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    await expectRefused(await sign(claimsOf(REPO_A), { key: privateKey }), /signature does not verify/);
    await expectRefused(await sign(claimsOf(REPO_A), { key: privateKey, header: { kid: 'someone-else' } }), /signature/);
  });

  it('is refused 401 unsigned (alg none) or signed with a shared secret (HS256)', async () => {
    const encode = (value: unknown): string => base64url.encode(JSON.stringify(value));
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claimsOf(REPO_A))}.`;
    await expectRefused(unsigned, /RS256/);
    // HS256 keyed with the public key's modulus: the classic algorithm-confusion forgery.
    const secret = new TextEncoder().encode(String(env.OIDC_TEST_PRIVATE_JWK.n));
    const hs256 = await new SignJWT(claimsOf(REPO_A)).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
    await expectRefused(hs256, /RS256/);
  });

  it('is refused 401 when malformed, without echoing it', async () => {
    const valid = await oidcToken(REPO_A);
    const [header = '', payload = ''] = valid.split('.');
    for (const token of ['abc.def.ghi', `${header}.${payload}.not-a-signature`, `${header}.bm90IGpzb24.${'A'.repeat(10)}`]) {
      const res = await registerWith(token);
      await expectError(res, 401, 'unauthorized');
    }
    await expectRefused('abc.def.ghi', /malformed/);
    await expectRefused('not-a-jwt-and-not-the-relay-token', /neither the relay token nor/);
  });

  it('is refused 401 without the repository claims', async () => {
    const claims = claimsOf(REPO_A);
    delete claims.repository_id;
    await expectRefused(await sign(claims), /repository_id/);
    await expectRefused(await sign(claimsOf(REPO_A, { repository: 'no-slash' })), /repository/);
  });
});

describe('ALLOWED_REPOSITORIES', () => {
  const admitted = async (repo: Repo): Promise<number> => (await registerWith(await oidcToken(repo))).status;

  it('refuses 403 a repository it does not list, naming it', async () => {
    const body = await expectError(await registerWith(await oidcToken(REPO_EVIL)), 403, 'forbidden');
    expect(body.message).toContain('evil/app');
    expect(body.message).toContain('not allowed');
  });

  it('admits every repository of an owner listed as owner/*, and only of that owner', async () => {
    expect(await admitted(REPO_WILD)).toBe(201);
    expect(await admitted({ repository: 'WILD-ORG/Other', repositoryId: '2002' })).toBe(201);
    expect(await admitted({ repository: 'wild-orgx/app', repositoryId: '2003' })).toBe(403);
    expect(await admitted({ repository: 'x-wild-org/app', repositoryId: '2004' })).toBe(403);
  });

  it('compares names without case, as GitHub does', async () => {
    expect(await admitted(REPO_CASED)).toBe(201);
    expect(await admitted({ repository: 'ACME/Potato-Facts', repositoryId: '1001' })).toBe(201);
  });

  it('parses entries separated by commas and any whitespace, ignoring empty ones; no wildcard but owner/*', async () => {
    const statusWith = async (allowed: string, repository: string): Promise<number> =>
      (await registerWith(await oidcToken({ repository, repositoryId: '4242' }), { ALLOWED_REPOSITORIES: allowed })).status;
    const listed = ' acme/app,,Wild/*\n\tother/x  ';
    expect(relayConfig({ ...env, ALLOWED_REPOSITORIES: listed }).allowedRepositories).toEqual(['acme/app', 'wild/*', 'other/x']);
    expect(await statusWith(listed, 'Wild/Thing')).toBe(201);
    expect(await statusWith(listed, 'other/x')).toBe(201);
    expect(await statusWith(listed, 'acme/app2')).toBe(403);
    expect(await statusWith('*', 'acme/app')).toBe(403);
    expect(await statusWith('*/*', 'acme/app')).toBe(403);
  });

  it('unset: OIDC is off, a token gets 401 saying so, RELAY_TOKEN still works', async () => {
    await expectRefused(await oidcToken(REPO_A), /OIDC is not enabled/, { ALLOWED_REPOSITORIES: '' });
    const init = { method: 'POST', headers: authHeaders(), body: JSON.stringify(gateRequest()) };
    expect((await app.request(`${BASE}/v1/gates`, init, { ...env, ALLOWED_REPOSITORIES: undefined })).status).toBe(201);
  });

  it('set without RELAY_TOKEN: OIDC alone works, anything else is refused', async () => {
    expect((await registerWith(await oidcToken(REPO_A), { RELAY_TOKEN: undefined })).status).toBe(201);
    await expectRefused('test-relay-token', /not a GitHub Actions OIDC token/, { RELAY_TOKEN: undefined });
  });
});

describe('RELAY_TOKEN beside OIDC', () => {
  it('still works on every route', async () => {
    const gate = await register();
    expect((await getGate(gate.runId, gate.gateId)).state).toBe('pending');
  });
});

describe('the issuer’s keys', () => {
  it('unreachable: 503 saying so, never a 500', async () => {
    const token = await oidcToken(REPO_A);
    for (const url of ['https://jwks-down.test/.well-known/jwks', `${ISSUER}/not-the-keys`]) {
      const res = await registerWith(token, { OIDC_JWKS_URL: url });
      const body = await expectError(res, 503, 'unavailable');
      expect(body.message).toContain(url);
    }
  });

  it('are fetched once per URL and kept for later tokens', async () => {
    const path = `/cache-${crypto.randomUUID()}/jwks`;
    const relayEnv = { OIDC_JWKS_URL: `${ISSUER}${path}` };
    for (let i = 0; i < 3; i += 1) expect((await registerWith(await oidcToken(REPO_A), relayEnv)).status).toBe(201);
    const fetches = await fetch(`${ISSUER}/jwks-fetches?path=${encodeURIComponent(path)}`);
    expect(await fetches.json()).toBe(1);
  });

  it('default to <OIDC_ISSUER>/.well-known/jwks', async () => {
    expect((await registerWith(await oidcToken(REPO_A), { OIDC_JWKS_URL: undefined })).status).toBe(201);
  });
});

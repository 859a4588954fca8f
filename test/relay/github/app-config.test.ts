/**
 * The relay's GitHub App configuration (relay/github/app-config.ts) and GET /healthz: both PEM
 * forms GitHub hands out sign a JWT GitHub would accept; a wrong setup is named, never echoed.
 */
import { env } from 'cloudflare:test';
import { createAppAuth } from '@octokit/auth-app';
import { importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { Health } from '../../../shared/park.ts';
import { appSetup, resumeRetrySeconds } from '../../../relay/github/app-config.ts';
import { app } from '../../../relay/worker/app.ts';
import { authHeaders, BASE, expectError, gateRequest } from '../helpers.ts';

/** The App JWT auth-app makes with `privateKey`, verified with the App's public key as GitHub does. */
async function verifiedJwt(privateKey: string): Promise<{ iss?: unknown; iat?: number; exp?: number }> {
  const { token } = await createAppAuth({ appId: env.GITHUB_APP_ID ?? '', privateKey })({ type: 'app' });
  const { payload } = await jwtVerify(token, await importSPKI(env.GITHUB_TEST_PUBLIC_KEY, 'RS256'), { algorithms: ['RS256'] });
  return payload;
}

describe('the GitHub App setup', () => {
  it('takes a PKCS#1 key (as GitHub hands it out) and a PKCS#8 key; both sign a JWT GitHub accepts', async () => {
    const pkcs1 = env.GITHUB_APP_PRIVATE_KEY ?? '';
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY');
    for (const pem of [pkcs1, env.GITHUB_TEST_PKCS8_KEY, pkcs1.replace(/\n/g, '\\n')]) {
      const setup = appSetup({ GITHUB_APP_ID: '424242', GITHUB_APP_PRIVATE_KEY: pem, GITHUB_API_URL: 'https://ghe.example.com/api/v3/' });
      expect(setup.status).toBe('configured');
      if (!setup.app) throw new Error('configured without an app');
      expect(setup.app).toMatchObject({ appId: '424242', apiUrl: 'https://ghe.example.com/api/v3' });
      expect(setup.app.privateKey).toContain('BEGIN PRIVATE KEY');
      const claims = await verifiedJwt(setup.app.privateKey);
      expect(claims.iss).toBe('424242');
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(600);
    }
    // Unconverted, the Workers build of the JWT library refuses PKCS#1: the conversion is what makes it work.
    await expect(verifiedJwt(pkcs1)).rejects.toThrow(/PKCS#1/);
  });

  it('is not configured without id and key, and misconfigured with one alone or a key that does not parse', () => {
    expect(appSetup({})).toMatchObject({ status: 'not configured', app: null });
    expect(appSetup({ GITHUB_APP_ID: '1' }).message).toContain('GITHUB_APP_PRIVATE_KEY is not');
    expect(appSetup({ GITHUB_APP_PRIVATE_KEY: env.GITHUB_TEST_PKCS8_KEY }).message).toContain('GITHUB_APP_ID is not');
    expect(appSetup({ GITHUB_APP_ID: 'app one', GITHUB_APP_PRIVATE_KEY: env.GITHUB_TEST_PKCS8_KEY }).status).toBe('misconfigured');
    const url = appSetup({ GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: env.GITHUB_TEST_PKCS8_KEY, GITHUB_API_URL: 'api.github.com' });
    expect(url.message).toContain('GITHUB_API_URL');
    const secretText = 'MIIEsecretKEYtextTHATmustNEVERshow';
    for (const key of [secretText, `-----BEGIN RSA PRIVATE KEY-----\n${secretText}\n-----END RSA PRIVATE KEY-----`]) {
      const setup = appSetup({ GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: key });
      expect(setup).toMatchObject({ status: 'misconfigured', app: null });
      expect(setup.message).toContain('GITHUB_APP_PRIVATE_KEY');
      expect(setup.message).not.toContain('secret');
    }
  });

  it('answers on GET /healthz, 200 either way, never with the key', async () => {
    const cases = [
      [{}, 'not configured'],
      [{ GITHUB_APP_ID: '1', GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nSECRETSECRET\n-----END RSA PRIVATE KEY-----' }, 'misconfigured'],
      [{ GITHUB_APP_ID: '7' }, 'misconfigured'],
      [{ GITHUB_APP_ID: '7', GITHUB_APP_PRIVATE_KEY: env.GITHUB_TEST_PKCS8_KEY }, 'configured'],
    ] as const;
    for (const [vars, status] of cases) {
      const res = await app.request(`${BASE}/healthz`, {}, { ...env, GITHUB_APP_ID: undefined, GITHUB_APP_PRIVATE_KEY: undefined, ...vars });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(Health.parse(JSON.parse(text))).toMatchObject({ ok: true, githubApp: status });
      expect(text).not.toContain('SECRET');
      expect(text).not.toContain('PRIVATE KEY');
    }
  });
});

describe('RESUME_RETRY_SECONDS', () => {
  it('is 3600 unset, else whole seconds from 1 to 30 days', () => {
    expect(resumeRetrySeconds(undefined)).toBe(3600);
    expect(resumeRetrySeconds(' ')).toBe(3600);
    expect(resumeRetrySeconds('60')).toBe(60);
    for (const bad of ['0', '-1', '1.5', 'ten', String(30 * 86400 + 1)]) expect(resumeRetrySeconds(bad)).toBeNull();
  });

  it('makes the action routes answer 503 naming it when it is wrong', async () => {
    const init = { method: 'POST', headers: authHeaders(), body: JSON.stringify(gateRequest()) };
    const res = await app.request(`${BASE}/v1/gates`, init, { ...env, RESUME_RETRY_SECONDS: 'soon' });
    expect((await expectError(res, 503, 'misconfigured')).message).toContain('RESUME_RETRY_SECONDS');
  });
});

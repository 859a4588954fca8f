/** The relay's configuration (relay/worker/config.ts): parsed once per environment, the public URL in one place. */
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../../../relay/worker/app.ts';
import { publicOrigin, publicUrl, relayConfig } from '../../../relay/worker/config.ts';
import { authHeaders, BASE, expectError, gateRequest } from '../helpers.ts';

describe('relayConfig', () => {
  it('parses an environment once', () => {
    const relayEnv = { ...env, PUBLIC_URL: 'https://hooks.example.com' };
    expect(relayConfig(relayEnv)).toBe(relayConfig(relayEnv));
    expect(relayConfig(relayEnv)).not.toBe(relayConfig({ ...relayEnv }));
  });

  it('takes the public URL from PUBLIC_URL without trailing slashes, else from the origin called', () => {
    const behindProxy = relayConfig({ ...env, PUBLIC_URL: 'https://hooks.example.com/relay//' });
    expect(publicUrl(behindProxy, 'http://10.0.0.1:8787/v1/gates')).toBe('https://hooks.example.com/relay');
    expect(publicOrigin(behindProxy, 'http://10.0.0.1:8787/v1/gates')).toBe('https://hooks.example.com');
    const direct = relayConfig({ ...env, PUBLIC_URL: '' });
    expect(publicUrl(direct, 'https://relay.test/v1/gates?x=1')).toBe('https://relay.test');
    expect(publicOrigin(direct, 'https://relay.test/approve/t')).toBe('https://relay.test');
  });

  it('treats an empty CALLBACK_SECRET as unset', () => {
    expect(relayConfig({ ...env, CALLBACK_SECRET: '' }).callbackSecret).toBeNull();
  });

  it('answers 503 misconfigured naming PUBLIC_URL when it is not an http(s) URL', async () => {
    for (const value of ['hooks.example.com', 'ftp://hooks.example.com', 'https://']) {
      const init = { method: 'POST', headers: authHeaders(), body: JSON.stringify(gateRequest()) };
      const res = await app.request(`${BASE}/v1/gates`, init, { ...env, PUBLIC_URL: value });
      const body = await expectError(res, 503, 'misconfigured');
      expect(body.message).toContain('PUBLIC_URL');
    }
  });
});

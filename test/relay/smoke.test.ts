import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';

describe('relay smoke', () => {
  it('answers health', async () => {
    const res = await SELF.fetch('https://relay.test/healthz');
    expect(res.status).toBe(200);
    expect(env.RELAY_TOKEN).toBe('test-relay-token');
  });
});

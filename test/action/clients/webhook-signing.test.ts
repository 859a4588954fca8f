// Signed webhooks as a receiver sees them: real requests to a 127.0.0.1 server, verified with the
// Standard Webhooks reference library rather than with our own code.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookDef } from '../../../action/plan/plan.ts';
import { callWebhook, renderCancel, renderWebhook } from '../../../action/clients/webhook.ts';
import type { CallOptions, WebhookRequest } from '../../../action/clients/webhook.ts';
import { createSigner, newMessageId, SIGNATURE_HEADERS } from '../../../action/clients/webhook-signing.ts';
import { FakeClock, here } from '../fakes.ts';

/** No secrets here: the error body as it came. */
const asIs = (text: string): string => text;

// 24 random bytes, as Standard Webhooks secrets are made.
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const RAW = 'correct horse battery staple';

interface Received {
  method: string;
  headers: Record<string, string>;
  /** The bytes as they arrived, as a receiver must verify them. */
  body: Buffer;
}

const received: Received[] = [];
/** Status codes for the next requests, in order; then 200. */
const statuses: number[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', headers: plain(req.headers), body: Buffer.concat(chunks) });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  statuses.length = 0;
});

function plain(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
}

/** The reference library's verdict: true, or the reason it refused. */
function verify(wh: Webhook, r: Received | undefined): true | string {
  if (r === undefined) return 'nothing received';
  try {
    wh.verify(r.body, r.headers, { jsonParse: false });
    return true;
  } catch (error) {
    return error instanceof WebhookVerificationError ? error.message : String(error);
  }
}

const def = (fields: Partial<WebhookDef> = {}): WebhookDef => ({
  name: 'Run-Tests',
  method: 'POST',
  uriTemplate: `${base}/hooks/{{armory.environmentName}}`,
  headers: [],
  bodyTemplate: null,
  retryCount: 0,
  disableCallback: false,
  timeoutSeconds: 3600,
  cancel: null,
  signingSecret: null,
  heartbeatSeconds: null,
  monitor: null,
  location: here,
  ...fields,
});
const values: Record<string, string> = { 'armory.environmentName': 'staging', 'secrets.hook_key': WHSEC, 'armory.callbackUri': 'https://relay.example/cb/t' };
const vars = (name: string): string | undefined => (Object.hasOwn(values, name) ? values[name] : undefined);
const now = (): CallOptions => ({ redact: asIs, retryCount: 0, clock: new FakeClock(Date.now()) });

describe('signed webhooks, verified by the standardwebhooks library', () => {
  it('signs a body with non-ASCII characters over its exact bytes (whsec_ secret)', async () => {
    const body = '{"text": "Grüße, 日本 ✓ 🚀",\n "n": 1}  ';
    const request = renderWebhook(def({ bodyTemplate: body }), vars, { signingSecret: WHSEC });
    const result = await callWebhook(request, now());
    expect(result.ok).toBe(true);
    const r = received[0];
    expect(r?.body.toString('utf8')).toBe(body);
    expect(verify(new Webhook(WHSEC), r)).toBe(true);
    expect(r?.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
    expect(result.ok && result.messageId).toBe(r?.headers['webhook-id']);
    expect(Math.abs(Number(r?.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(r?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('signs a GET without a body over an empty body', async () => {
    const request = renderWebhook(def({ method: 'GET' }), vars, { signingSecret: WHSEC });
    expect((await callWebhook(request, now())).ok).toBe(true);
    expect(received[0]?.method).toBe('GET');
    expect(received[0]?.body.length).toBe(0);
    expect(verify(new Webhook(WHSEC), received[0])).toBe(true);
  });

  it('keeps the webhook-id across retries, with a fresh timestamp and signature that each verify', async () => {
    statuses.push(503);
    const request = renderWebhook(def({ bodyTemplate: '{"a": 1}' }), vars, { signingSecret: WHSEC });
    const result = await callWebhook(request, { redact: asIs, retryCount: 1, clock: new FakeClock(Date.now()), random: () => 1 });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    const [first, second] = received;
    expect(first?.headers['webhook-id']).toBe(second?.headers['webhook-id']);
    // The fake clock moved on by the 1 s backoff (its jitter pinned to the whole of it).
    expect(Number(second?.headers['webhook-timestamp'])).toBe(Number(first?.headers['webhook-timestamp']) + 1);
    expect(first?.headers['webhook-signature']).not.toBe(second?.headers['webhook-signature']);
    expect(verify(new Webhook(WHSEC), first)).toBe(true);
    expect(verify(new Webhook(WHSEC), second)).toBe(true);
    // Another call is another message.
    await callWebhook(request, now());
    expect(received[2]?.headers['webhook-id']).not.toBe(first?.headers['webhook-id']);
  });

  it('fails verification for a tampered body, another secret or an old timestamp', async () => {
    await callWebhook(renderWebhook(def({ bodyTemplate: '{"success": true}' }), vars, { signingSecret: WHSEC }), now());
    const r = received[0]!;
    expect(verify(new Webhook(WHSEC), { ...r, body: Buffer.from('{"success": false}') })).toBe('No matching signature found');
    expect(verify(new Webhook('whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBrZXk='), r)).toBe('No matching signature found');
    expect(verify(new Webhook(RAW, { format: 'raw' }), r)).toBe('No matching signature found');
    // The timestamp comes from the clock: a call an hour in the past is refused as a replay.
    await callWebhook(renderWebhook(def(), vars, { signingSecret: WHSEC }), { redact: asIs, retryCount: 0, clock: new FakeClock(Date.now() - 3_600_000) });
    expect(verify(new Webhook(WHSEC), received[1])).toBe('Message timestamp too old');
  });

  it('uses any other secret as its UTF-8 bytes: format raw for the library', async () => {
    await callWebhook(renderWebhook(def({ bodyTemplate: 'plain text' }), vars, { signingSecret: RAW }), now());
    expect(verify(new Webhook(RAW, { format: 'raw' }), received[0])).toBe(true);
    // The library would base64-decode it without format raw.
    expect(verify(new Webhook(Buffer.from(RAW).toString('base64')), received[0])).toBe(true);
  });

  it('takes a non-ASCII raw secret as UTF-8, which the library needs as bytes', async () => {
    const secret = 'pässwörd-🔑';
    await callWebhook(renderWebhook(def({ bodyTemplate: '{}' }), vars, { signingSecret: secret }), now());
    expect(verify(new Webhook(new TextEncoder().encode(secret), { format: 'raw' }), received[0])).toBe(true);
    // Given the string, the library keeps one byte per UTF-16 unit: documented in the README.
    expect(verify(new Webhook(secret, { format: 'raw' }), received[0])).toBe('No matching signature found');
  });

  it("signs with the webhook's own secret over the input's", async () => {
    await callWebhook(renderWebhook(def({ signingSecret: '{{secrets.hook_key}}' }), vars, { signingSecret: RAW }), now());
    expect(verify(new Webhook(WHSEC), received[0])).toBe(true);
  });

  it('sends no signature headers without a secret, or with signingSecret: false', async () => {
    await callWebhook(renderWebhook(def({ bodyTemplate: '{}' }), vars), now());
    await callWebhook(renderWebhook(def({ signingSecret: false }), vars, { signingSecret: WHSEC }), now());
    for (const r of received) {
      for (const name of SIGNATURE_HEADERS) expect(r.headers[name]).toBeUndefined();
      expect(verify(new Webhook(WHSEC), r)).toBe('Missing required headers');
    }
  });

  it('replaces signature headers a request already has, whatever their case', async () => {
    const request: WebhookRequest = {
      method: 'POST',
      url: `${base}/x`,
      headers: { 'Webhook-Id': 'msg_forged', 'WEBHOOK-SIGNATURE': 'v1,forged', 'X-Kept': 'yes' },
      body: 'x',
      signer: createSigner(WHSEC, 'a test'),
    };
    await callWebhook(request, now());
    const r = received[0];
    expect(r?.headers['webhook-id']).not.toBe('msg_forged');
    expect(r?.headers['x-kept']).toBe('yes');
    expect(verify(new Webhook(WHSEC), r)).toBe(true);
  });

  it('signs the cancel request like the call', async () => {
    const cancel = { method: 'DELETE', uriTemplate: `${base}/jobs/{{armory.environmentName}}`, headers: [], bodyTemplate: '{"callbackUri": "{{armory.callbackUri}}"}' };
    const request = renderCancel(def({ cancel, signingSecret: '{{secrets.hook_key}}' }), vars);
    expect(request).not.toBeNull();
    await callWebhook(request!, { ...now(), attemptTimeoutMs: 1000 });
    expect(received[0]?.method).toBe('DELETE');
    expect(new Webhook(WHSEC).verify(received[0]!.body, received[0]!.headers)).toEqual({ callbackUri: 'https://relay.example/cb/t' });
  });
});

describe('createSigner', () => {
  it('matches the reference library for both secret formats', () => {
    const id = newMessageId();
    const body = new TextEncoder().encode('{"é": 1}');
    const at = 1_700_000_000;
    expect(createSigner(WHSEC, 'x').sign(id, at, body)).toBe(new Webhook(WHSEC).sign(id, new Date(at * 1000), '{"é": 1}'));
    expect(createSigner(RAW, 'x').sign(id, at, body)).toBe(new Webhook(RAW, { format: 'raw' }).sign(id, new Date(at * 1000), '{"é": 1}'));
  });

  it('refuses an empty secret and bad base64 after whsec_, naming the source and never the secret', () => {
    expect(() => createSigner('', 'the webhook-signing-secret input')).toThrow('the webhook signing secret from the webhook-signing-secret input is empty');
    expect(() => createSigner('whsec_', 'X')).toThrow('the webhook signing secret from X has nothing after whsec_');
    for (const bad of ['whsec_abc', 'whsec_ab=c', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS-', `${WHSEC}\n`, 'whsec_a b=']) {
      let message = '';
      try {
        createSigner(bad, '{{secrets.k}} (signingSecret of webhook A)');
      } catch (error) {
        message = error instanceof Error ? error.message : '';
      }
      expect(message).toMatch(/^the webhook signing secret from \{\{secrets\.k\}\} \(signingSecret of webhook A\) starts with whsec_, but what follows is not standard base64/);
      expect(message).not.toContain(bad.slice(6).trim());
    }
  });

  it('keeps the key out of util.inspect and JSON', () => {
    const signer = createSigner('whsec_c2VjcmV0LWtleS1ieXRlcw==', 'the webhook-signing-secret input');
    for (const shown of [inspect(signer, { showHidden: true, depth: 5 }), JSON.stringify({ signer })]) {
      expect(shown).not.toMatch(/c2VjcmV0|secret-key-bytes|73 65 63/);
    }
  });

  it('makes message ids that differ every time', () => {
    const ids = new Set(Array.from({ length: 100 }, newMessageId));
    expect(ids.size).toBe(100);
  });
});

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookDef } from '../../../action/plan/plan.ts';
import { callWebhook, CANCEL_ATTEMPT_TIMEOUT_MS, checkSigningSecrets, renderCancel, renderWebhook } from '../../../action/clients/webhook.ts';
import type { WebhookRequest } from '../../../action/clients/webhook.ts';
import { FakeClock, here } from '../fakes.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

const received: Received[] = [];
/** Answers for the next requests, in order; then 200 `{"ok":true}`. */
const replies: Reply[] = [];
let server: Server;
let base = '';

const status =
  (code: number, body = ''): Reply =>
  (_req, res) => {
    res.writeHead(code, { 'content-type': 'text/plain' }).end(body);
  };
const dropConnection: Reply = (req) => req.socket.destroy();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = replies.shift() ?? ((_q: IncomingMessage, r: ServerResponse) => r.writeHead(200).end('{"ok":true}'));
      reply(req, res);
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
  replies.length = 0;
});

const def = (fields: Partial<WebhookDef> = {}): WebhookDef => ({
  name: 'Run-Tests',
  method: 'POST',
  uriTemplate: 'https://ci.example.com/hooks/{{armory.environmentName}}',
  headers: [],
  bodyTemplate: null,
  retryCount: 0,
  disableCallback: false,
  timeoutSeconds: 3600,
  cancel: null,
  signingSecret: null,
  location: here,
  ...fields,
});

const values: Record<string, string> = {
  'armory.environmentName': 'staging',
  'armory.callbackUri': 'https://relay.example/cb/tok',
  'secrets.ci_token': 's3cr3t',
  'context.tricky': '{{secrets.ci_token}}',
};
const vars = (name: string): string | undefined => (Object.hasOwn(values, name) ? values[name] : undefined);

const request = (fields: Partial<WebhookRequest> = {}): WebhookRequest => ({
  method: 'POST',
  url: `${base}/hooks/run`,
  headers: {},
  body: null,
  ...fields,
});

describe('renderWebhook', () => {
  it('renders the URI, the header values and the body; header keys are sent as written', () => {
    const rendered = renderWebhook(
      def({
        headers: [
          { key: 'Authorization', value: 'Bearer {{secrets.ci_token}}' },
          { key: 'X-{{armory.environmentName}}', value: 'literal key' },
        ],
        bodyTemplate: '{"callbackUri": "{{armory.callbackUri}}/callback", "env": "{{ armory.environmentName }}"}',
      }),
      vars,
    );
    expect(rendered).toEqual({
      method: 'POST',
      url: 'https://ci.example.com/hooks/staging',
      headers: {
        Authorization: 'Bearer s3cr3t',
        'X-{{armory.environmentName}}': 'literal key',
        'Content-Type': 'application/json',
      },
      body: '{"callbackUri": "https://relay.example/cb/tok/callback", "env": "staging"}',
    });
  });

  it('defaults Content-Type to text for a body that is not JSON', () => {
    expect(renderWebhook(def({ bodyTemplate: 'deploy {{armory.environmentName}}' }), vars).headers).toEqual({
      'Content-Type': 'text/plain; charset=utf-8',
    });
    expect(renderWebhook(def({ bodyTemplate: '  [1, 2]' }), vars).headers['Content-Type']).toBe('application/json');
  });

  it('keeps a Content-Type the file sets, whatever its case', () => {
    const rendered = renderWebhook(
      def({ headers: [{ key: 'content-type', value: 'application/x-www-form-urlencoded' }], bodyTemplate: '{"a":1}' }),
      vars,
    );
    expect(rendered.headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded' });
  });

  it('sets no body and no Content-Type without a body template', () => {
    const rendered = renderWebhook(def({ method: 'GET' }), vars);
    expect(rendered.body).toBeNull();
    expect(rendered.headers).toEqual({});
  });

  it('does not expand a template found inside a value', () => {
    expect(renderWebhook(def({ bodyTemplate: 'x={{context.tricky}}' }), vars).body).toBe('x={{secrets.ci_token}}');
  });

  it('throws naming a variable that has no value', () => {
    expect(() => renderWebhook(def({ bodyTemplate: '{{context.missing}}' }), vars)).toThrow("Template variable 'context.missing' has no value");
  });
});

describe('renderCancel', () => {
  const cancel = {
    method: 'DELETE',
    uriTemplate: 'https://ci.example.com/jobs/{{armory.environmentName}}',
    headers: [{ key: 'Authorization', value: 'Bearer {{secrets.ci_token}}' }],
    bodyTemplate: '{"callbackUri": "{{armory.callbackUri}}", "reason": "withdrawn"}',
  };

  it('renders the cancelTemplate with the same variables as the call', () => {
    expect(renderCancel(def({ cancel }), vars)).toEqual({
      method: 'DELETE',
      url: 'https://ci.example.com/jobs/staging',
      headers: { Authorization: 'Bearer s3cr3t', 'Content-Type': 'application/json' },
      body: '{"callbackUri": "https://relay.example/cb/tok", "reason": "withdrawn"}',
    });
  });

  it('is null for a webhook without a cancelTemplate', () => {
    expect(renderCancel(def(), vars)).toBeNull();
  });

  it('is signed like the call', () => {
    const signed = def({ cancel, signingSecret: '{{secrets.ci_token}}' });
    expect(renderCancel(signed, vars)?.signer?.source).toBe('{{secrets.ci_token}} (signingSecret of webhook Run-Tests)');
    expect(renderCancel(def({ cancel }), vars, { signingSecret: 'input-secret' })?.signer?.source).toBe('the webhook-signing-secret input');
    expect(renderCancel(def({ cancel, signingSecret: false }), vars, { signingSecret: 'input-secret' })?.signer).toBeUndefined();
  });
});

describe('signing secrets', () => {
  it("takes the webhook's signingSecret over the input, and signs nothing when neither is set", () => {
    expect(renderWebhook(def(), vars).signer).toBeUndefined();
    expect(renderWebhook(def(), vars, { signingSecret: null }).signer).toBeUndefined();
    expect(renderWebhook(def(), vars, { signingSecret: 'input-secret' }).signer?.source).toBe('the webhook-signing-secret input');
    const own = renderWebhook(def({ signingSecret: '{{ secrets.ci_token }}' }), vars, { signingSecret: 'input-secret' });
    expect(own.signer?.source).toBe('{{secrets.ci_token}} (signingSecret of webhook Run-Tests)');
  });

  it('sends a webhook with signingSecret: false unsigned even when the input is set', () => {
    expect(renderWebhook(def({ signingSecret: false }), vars, { signingSecret: 'input-secret' }).signer).toBeUndefined();
  });

  it('never shows the key when the request is logged or serialized', () => {
    const request = renderWebhook(def(), vars, { signingSecret: 'do-not-print-me' });
    expect(JSON.stringify(request)).not.toContain('do-not-print-me');
    expect(JSON.stringify(request)).toContain('[signing key from the webhook-signing-secret input]');
  });

  it('throws naming the secret, not its value, when it is unusable', () => {
    expect(() => renderWebhook(def({ signingSecret: '{{secrets.nope}}' }), vars)).toThrow(
      'the webhook signing secret from {{secrets.nope}} (signingSecret of webhook Run-Tests) has no value',
    );
    const badVars = (name: string) => (name === 'secrets.key' ? 'whsec_not base64!' : vars(name));
    expect(() => renderWebhook(def({ signingSecret: '{{secrets.key}}' }), badVars)).toThrow(/^the webhook signing secret from \{\{secrets\.key\}\} \(signingSecret of webhook Run-Tests\) starts with whsec_/);
  });

  it('checks every secret before anything runs, naming where each comes from', () => {
    const webhooks = {
      A: def({ name: 'A', signingSecret: '{{secrets.good}}' }),
      B: def({ name: 'B', signingSecret: '{{secrets.bad}}' }),
      C: def({ name: 'C', signingSecret: '{{secrets.empty}}' }),
      D: def({ name: 'D', signingSecret: false }),
      E: def({ name: 'E' }),
    };
    const secrets = { good: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', bad: 'whsec_abc', empty: '' };
    const problems = checkSigningSecrets(webhooks, secrets, 'whsec_%%%');
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^the webhook signing secret from the webhook-signing-secret input starts with whsec_, but what follows is not standard base64/);
    expect(problems[1]).toMatch(/^the webhook signing secret from \{\{secrets\.bad\}\} \(signingSecret of webhook B\) starts with whsec_/);
    expect(problems[2]).toBe('the webhook signing secret from {{secrets.empty}} (signingSecret of webhook C) is empty');
    expect(problems.join('\n')).not.toMatch(/whsec_abc|%%%/);
    expect(checkSigningSecrets(webhooks, { ...secrets, bad: 'raw secret', empty: 'x' }, null)).toEqual([]);
  });
});

describe('callWebhook', () => {
  it('sends the body verbatim with the rendered headers', async () => {
    const body = '{"text": "héllo ✓",\n  "n": 1}  \n';
    const result = await callWebhook(
      request({ headers: { Authorization: 'Bearer s3cr3t', 'Content-Type': 'application/json' }, body }),
      { retryCount: 0, clock: new FakeClock() },
    );
    expect(result).toEqual({ ok: true, status: 200, attempts: 1 });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/hooks/run', body });
    expect(received[0]?.headers.authorization).toBe('Bearer s3cr3t');
    expect(received[0]?.headers['content-type']).toBe('application/json');
  });

  it('sends no body with GET', async () => {
    const result = await callWebhook(request({ method: 'GET', body: '{"ignored": true}' }), { retryCount: 0, clock: new FakeClock() });
    expect(result.ok).toBe(true);
    expect(received[0]?.method).toBe('GET');
    expect(received[0]?.body).toBe('');
    expect(received[0]?.headers['content-length']).toBeUndefined();
  });

  it('retries non-2xx answers with exponential backoff and succeeds', async () => {
    replies.push(status(500, 'database locked'), status(404, 'no such job'));
    const clock = new FakeClock();
    const retries: string[] = [];
    const result = await callWebhook(request({ body: 'x' }), {
      retryCount: 3,
      clock,
      onRetry: (reason, attempt, delay) => retries.push(`${attempt} ${delay} ${reason}`),
    });
    expect(result).toEqual({ ok: true, status: 200, attempts: 3 });
    expect(received.map((r) => r.body)).toEqual(['x', 'x', 'x']);
    expect(retries).toEqual(['1 1000 HTTP 500: database locked', '2 2000 HTTP 404: no such job']);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('retries network errors', async () => {
    replies.push(dropConnection);
    const clock = new FakeClock();
    const reasons: string[] = [];
    const result = await callWebhook(request(), { retryCount: 1, clock, onRetry: (reason) => reasons.push(reason) });
    expect(result).toEqual({ ok: true, status: 200, attempts: 2 });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^fetch failed: /);
  });

  it('gives up after retryCount retries with the last reason, the error body cut short', async () => {
    const long = 'e'.repeat(1000);
    replies.push(status(503, long), status(503, long), status(503, long), status(502, long));
    const clock = new FakeClock();
    const result = await callWebhook(request(), { retryCount: 3, clock });
    expect(result).toEqual({ ok: false, reason: `HTTP 502: ${'e'.repeat(300)}`, attempts: 4 });
    expect(received).toHaveLength(4);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  it('makes one attempt and does not sleep with retryCount 0', async () => {
    replies.push(status(500));
    const clock = new FakeClock();
    const result = await callWebhook(request(), { retryCount: 0, clock });
    expect(result).toEqual({ ok: false, reason: 'HTTP 500', attempts: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  it('follows a redirect', async () => {
    replies.push((_req, res) => res.writeHead(302, { location: '/moved' }).end());
    const result = await callWebhook(request(), { retryCount: 0, clock: new FakeClock() });
    expect(result.ok).toBe(true);
    expect(received.map((r) => r.url)).toEqual(['/hooks/run', '/moved']);
  });

  it("throws the signal's reason when aborted during a backoff", async () => {
    replies.push(status(500), status(500));
    const controller = new AbortController();
    const reason = new Error('a sibling failed');
    const call = callWebhook(request(), {
      retryCount: 5,
      clock: new FakeClock(),
      signal: controller.signal,
      onRetry: () => controller.abort(reason),
    });
    await expect(call).rejects.toBe(reason);
    expect(received).toHaveLength(1);
  });

  it('gives up on an attempt after attemptTimeoutMs, as a cancel call would', async () => {
    replies.push(() => undefined);
    const result = await callWebhook(request(), { retryCount: 0, attemptTimeoutMs: 200, clock: new FakeClock() });
    expect(result).toEqual({ ok: false, reason: 'no answer within 0.2 s', attempts: 1 });
    expect(CANCEL_ATTEMPT_TIMEOUT_MS).toBeLessThan(10_000);
  });

  it("throws the signal's reason and calls nobody when already aborted", async () => {
    const reason = new Error('canceled');
    await expect(callWebhook(request(), { retryCount: 2, clock: new FakeClock(), signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(received).toEqual([]);
  });
});

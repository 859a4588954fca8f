import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callWebhook, CANCEL_ATTEMPT_TIMEOUT_MS, MAX_ANSWER_BODY_BYTES } from '../../../action/clients/webhook.ts';
import type { WebhookRequest } from '../../../action/clients/webhook.ts';
import { createRedactor } from '../../../action/output/redact.ts';
import { FakeClock } from '../fakes.ts';

/** No secrets here: the error body as it came. */
const asIs = (text: string): string => text;

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
const request = (fields: Partial<WebhookRequest> = {}): WebhookRequest => ({
  method: 'POST',
  url: `${base}/hooks/run`,
  headers: {},
  body: null,
  ...fields,
});
describe('callWebhook', () => {
  it('sends the body verbatim with the rendered headers', async () => {
    const body = '{"text": "héllo ✓",\n  "n": 1}  \n';
    const result = await callWebhook(
      request({ headers: { Authorization: 'Bearer s3cr3t', 'Content-Type': 'application/json' }, body }),
      { redact: asIs, retryCount: 0, clock: new FakeClock() },
    );
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1, body: '{"ok":true}' });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/hooks/run', body });
    expect(received[0]?.headers.authorization).toBe('Bearer s3cr3t');
    expect(received[0]?.headers['content-type']).toBe('application/json');
  });

  it('hands on a 2xx answer’s headers and body (for a monitor); a body over 64 KiB is not read past it and comes as null', async () => {
    replies.push((_req, res) => res.writeHead(202, { location: '/queue/item/7/' }).end('x'.repeat(MAX_ANSWER_BODY_BYTES)));
    const whole = await callWebhook(request(), { redact: asIs, retryCount: 0, clock: new FakeClock() });
    if (!whole.ok) throw new Error(whole.reason);
    expect(whole.status).toBe(202);
    expect(whole.headers.get('location')).toBe('/queue/item/7/');
    expect(whole.body).toBe('x'.repeat(MAX_ANSWER_BODY_BYTES));
    // 8 MiB, in chunks: the call stops reading once past the limit.
    let written = 0;
    replies.push((_req, res) => {
      res.writeHead(200);
      const chunk = 'y'.repeat(64 * 1024);
      const more = (): void => {
        while (written < 8 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
    });
    const large = await callWebhook(request(), { redact: asIs, retryCount: 0, clock: new FakeClock() });
    expect(large).toMatchObject({ ok: true, status: 200, body: null });
  });

  it('retries a rate-limited 403 (GitHub’s), waiting for the limit’s reset; a plain 403 fails at once', async () => {
    const clock = new FakeClock();
    const reset = String(Math.floor(clock.now() / 1000) + 45);
    replies.push(
      (_req, res) => res.writeHead(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }).end('API rate limit exceeded'),
      (_req, res) => res.writeHead(403, { 'retry-after': '20' }).end('secondary rate limit'),
    );
    const result = await callWebhook(request(), { redact: asIs, retryCount: 3, clock, random: () => 1 });
    expect(result).toMatchObject({ ok: true, attempts: 3 });
    expect(clock.sleeps).toEqual([45_000, 20_000]);
    replies.push(status(403, 'forbidden'));
    expect(await callWebhook(request(), { redact: asIs, retryCount: 3, clock })).toEqual({ ok: false, reason: 'HTTP 403: forbidden', attempts: 1 });
  });

  it('sends no body with GET', async () => {
    const result = await callWebhook(request({ method: 'GET', body: '{"ignored": true}' }), { redact: asIs, retryCount: 0, clock: new FakeClock() });
    expect(result.ok).toBe(true);
    expect(received[0]?.method).toBe('GET');
    expect(received[0]?.body).toBe('');
    expect(received[0]?.headers['content-length']).toBeUndefined();
  });

  it('retries 5xx, 408 and 429 with exponential backoff and succeeds', async () => {
    replies.push(status(500, 'database locked'), status(408, 'slow'), status(429, 'slow down'));
    const clock = new FakeClock();
    const retries: string[] = [];
    const result = await callWebhook(request({ body: 'x' }), {
      redact: asIs, retryCount: 3,
      clock,
      random: () => 1,
      onRetry: (reason, attempt, delay) => retries.push(`${attempt} ${delay} ${reason}`),
    });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 4 });
    expect(received.map((r) => r.body)).toEqual(['x', 'x', 'x', 'x']);
    expect(retries).toEqual(['1 1000 HTTP 500: database locked', '2 2000 HTTP 408: slow', '3 4000 HTTP 429: slow down']);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  it('fails at once on any other 4xx, quoting the answer: another attempt would get the same', async () => {
    replies.push(status(404, 'no such job'));
    const clock = new FakeClock();
    const result = await callWebhook(request(), { redact: asIs, retryCount: 3, clock });
    expect(result).toEqual({ ok: false, reason: 'HTTP 404: no such job', attempts: 1 });
    expect(received).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('jitters the backoff between half and all of it', async () => {
    replies.push(status(503), status(503));
    const clock = new FakeClock();
    await callWebhook(request(), { redact: asIs, retryCount: 2, clock, random: () => 0 });
    expect(clock.sleeps).toEqual([500, 1000]);
  });

  it('waits as long as Retry-After asks (seconds or a date), when that is longer than the backoff', async () => {
    const retryAfter = (value: string): Reply => (_req, res) => res.writeHead(503, { 'retry-after': value }).end('busy');
    const clock = new FakeClock();
    const later = new Date(clock.now() + 90_000).toUTCString();
    replies.push(retryAfter('7'), retryAfter(later), retryAfter('0'));
    const result = await callWebhook(request(), { redact: asIs, retryCount: 3, clock, random: () => 1 });
    expect(result).toMatchObject({ ok: true, attempts: 4 });
    expect(clock.sleeps[0]).toBe(7000);
    // The date was 90 s after the first attempt, the second came 7 s later; HTTP dates have no milliseconds.
    expect(clock.sleeps[1]).toBeGreaterThan(82_000);
    expect(clock.sleeps[1]).toBeLessThanOrEqual(83_000);
    expect(clock.sleeps[2]).toBe(4000);
  });

  it('never waits past the step’s deadline: it gives up when the next attempt would come after it', async () => {
    replies.push((_req, res) => res.writeHead(429, { 'retry-after': '3600' }).end('quota'));
    const clock = new FakeClock();
    const result = await callWebhook(request(), { redact: asIs, retryCount: 3, clock, deadline: clock.now() + 600_000 });
    expect(result).toEqual({ ok: false, reason: "HTTP 429: quota; no attempt left before the step's deadline (the next would be in 1h)", attempts: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  it('retries network errors', async () => {
    replies.push(dropConnection);
    const clock = new FakeClock();
    const reasons: string[] = [];
    const result = await callWebhook(request(), { redact: asIs, retryCount: 1, clock, onRetry: (reason) => reasons.push(reason) });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 2 });
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^fetch failed: /);
  });

  it('gives up after retryCount retries with the last reason, the error body cut short', async () => {
    const long = 'e'.repeat(1000);
    replies.push(status(503, long), status(503, long), status(503, long), status(502, long));
    const clock = new FakeClock();
    const result = await callWebhook(request(), { redact: asIs, retryCount: 3, clock, random: () => 1 });
    expect(result).toEqual({ ok: false, reason: `HTTP 502: ${'e'.repeat(300)}`, attempts: 4 });
    expect(received).toHaveLength(4);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  // Cut first, the secret would lose its end at the cut and, half there, no longer be recognised.
  it('redacts an echoed secret before cutting the error body, so the cut cannot leave half of it', async () => {
    const secret = 'f00dfeed'.repeat(4);
    replies.push(status(500, `${'e'.repeat(290)}${secret} and more`));
    const result = await callWebhook(request(), { redact: createRedactor([secret]), retryCount: 0, clock: new FakeClock() });
    expect(result).toEqual({ ok: false, reason: `HTTP 500: ${'e'.repeat(290)}*** and mo`, attempts: 1 });
    expect(result.ok || result.reason).not.toContain('f00d');
  });

  it('cuts the error body between characters, never inside an emoji', async () => {
    replies.push(status(500, `${'e'.repeat(299)}😀 tail`));
    const result = await callWebhook(request(), { redact: asIs, retryCount: 0, clock: new FakeClock() });
    // The emoji is the 300th code point: kept whole, where a UTF-16 cut would leave half of it.
    expect(result).toEqual({ ok: false, reason: `HTTP 500: ${'e'.repeat(299)}😀`, attempts: 1 });
  });

  it('makes one attempt and does not sleep with retryCount 0', async () => {
    replies.push(status(500));
    const clock = new FakeClock();
    const result = await callWebhook(request(), { redact: asIs, retryCount: 0, clock });
    expect(result).toEqual({ ok: false, reason: 'HTTP 500', attempts: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  it('follows a redirect', async () => {
    replies.push((_req, res) => res.writeHead(302, { location: '/moved' }).end());
    const result = await callWebhook(request(), { redact: asIs, retryCount: 0, clock: new FakeClock() });
    expect(result.ok).toBe(true);
    expect(received.map((r) => r.url)).toEqual(['/hooks/run', '/moved']);
  });

  it("throws the signal's reason when aborted during a backoff", async () => {
    replies.push(status(500), status(500));
    const controller = new AbortController();
    const reason = new Error('a sibling failed');
    const call = callWebhook(request(), {
      redact: asIs, retryCount: 5,
      clock: new FakeClock(),
      signal: controller.signal,
      onRetry: () => controller.abort(reason),
    });
    await expect(call).rejects.toBe(reason);
    expect(received).toHaveLength(1);
  });

  it('gives up on an attempt after attemptTimeoutMs, as a cancel call would', async () => {
    replies.push(() => undefined);
    const result = await callWebhook(request(), { redact: asIs, retryCount: 0, attemptTimeoutMs: 200, clock: new FakeClock() });
    expect(result).toEqual({ ok: false, reason: 'no answer within 0.2 s', attempts: 1 });
    expect(CANCEL_ATTEMPT_TIMEOUT_MS).toBeLessThan(10_000);
  });

  it("throws the signal's reason and calls nobody when already aborted", async () => {
    const reason = new Error('canceled');
    await expect(callWebhook(request(), { redact: asIs, retryCount: 2, clock: new FakeClock(), signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(received).toEqual([]);
  });
});

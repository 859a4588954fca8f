/** A webhook monitor's status request: rendered and signed like the webhook's call, sent once per poll, its answer classified. */
import { truncateCodePoints } from '../../shared/text.ts';
import type { Redact } from '../output/redact.ts';
import type { MonitorDef, WebhookDef } from '../plan/plan.ts';
import { backoffMs } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';
import { retryAfterMs, renderWebhook } from './webhook.ts';
import type { RenderOptions, WebhookRequest } from './webhook.ts';
import { newMessageId, SIGNATURE_HEADERS } from './webhook-signing.ts';

/** One status request may take this long; then it counts as a failed poll (polling goes on). */
export const STATUS_ATTEMPT_TIMEOUT_MS = 30_000;
/** Most bytes of a status answer read: a status document is small; more is not read, and is not JSON to us. */
export const MAX_STATUS_BYTES = 1024 * 1024;
/** Characters of a refused or unreadable answer quoted in the gate's message. */
const QUOTE_CHARS = 200;

/** What one status request came back with. */
export type StatusAnswer =
  /** A 2xx whose body is JSON. */
  | { kind: 'json'; status: number; json: unknown }
  /** A 2xx whose body is not JSON (`quote`: its start), or is larger than MAX_STATUS_BYTES (`quote` null). */
  | { kind: 'not-json'; status: number; quote: string | null }
  /** Another poll may see something else: network error, timeout, 408, 429, 5xx. */
  | { kind: 'transient'; reason: string; retryAfterMs: number | null }
  /** Another poll gets the same: any other answer (a 4xx). */
  | { kind: 'refused'; status: number; quote: string };

export interface StatusOptions {
  signal: AbortSignal;
  now: () => number;
  fetch?: typeof fetch;
  redact: Redact;
  /** Default STATUS_ATTEMPT_TIMEOUT_MS. */
  attemptTimeoutMs?: number;
}

/**
 * The status request: the monitor's method, URI, headers and body rendered with `vars`, signed as
 * the webhook's call is (its `signingSecret`, else the input's). Throws naming a variable without a value.
 */
export function renderStatusRequest(def: WebhookDef, monitor: MonitorDef, vars: (name: string) => string | undefined, options: RenderOptions): WebhookRequest {
  const { method, uriTemplate, headers, bodyTemplate } = monitor;
  return renderWebhook({ ...def, method, uriTemplate, headers, bodyTemplate }, vars, options);
}

/** Sends the status request once. Rejects only with the signal's reason once it aborts. */
export async function requestStatus(request: WebhookRequest, options: StatusOptions): Promise<StatusAnswer> {
  const timeoutMs = options.attemptTimeoutMs ?? STATUS_ATTEMPT_TIMEOUT_MS;
  const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
  const body = hasBody ? new TextEncoder().encode(request.body ?? '') : null;
  try {
    const response = await (options.fetch ?? fetch)(request.url, {
      method: request.method,
      headers: signedHeaders(request, body, options.now()),
      body,
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), options.signal]),
      redirect: 'follow',
    });
    const text = await readCapped(response, MAX_STATUS_BYTES);
    const quote = (value: string): string => truncateCodePoints(options.redact(value), QUOTE_CHARS, '…').replace(/\s+/g, ' ').trim();
    if (response.ok) {
      if (text === null) return { kind: 'not-json', status: response.status, quote: null };
      try {
        return { kind: 'json', status: response.status, json: JSON.parse(text) as unknown };
      } catch {
        return { kind: 'not-json', status: response.status, quote: quote(text) };
      }
    }
    // As for the call: 408, 429 and 5xx may change on another try; another 4xx (401, 404) will not.
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      const reason = `HTTP ${response.status}${text ? `: ${quote(text)}` : ''}`;
      return { kind: 'transient', reason, retryAfterMs: retryAfterMs(response.headers.get('retry-after'), options.now()) };
    }
    return { kind: 'refused', status: response.status, quote: quote(text ?? '') };
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    // "Failed to parse URL from <url>": the whole URL, query and all, would reach the log.
    const reason = networkReason(error, timeoutMs).split(request.url).join(hostOf(request.url));
    return { kind: 'transient', reason, retryAfterMs: null };
  }
}

/** Each poll is a message of its own: a fresh `webhook-id`, timestamp and signature. */
function signedHeaders(request: WebhookRequest, body: Uint8Array | null, nowMs: number): Record<string, string> {
  const signer = request.signer ?? null;
  if (signer === null) return request.headers;
  const kept = Object.entries(request.headers).filter(([key]) => !SIGNATURE_HEADERS.includes(key.toLowerCase()));
  return { ...Object.fromEntries(kept), ...signer.headers(newMessageId(), Math.floor(nowMs / 1000), body ?? new Uint8Array()) };
}

/** The body as text, or null when it is longer than `max` bytes (the rest is not read). */
async function readCapped(response: Response, max: number): Promise<string | null> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** A monitor's decision, posted to its gate's callback URI like an external system's (SPEC §3). */
export interface Verdict {
  success: boolean;
  mdMessage: string;
  outputs?: Record<string, string>;
}

/** `stored`: the relay has it; `decided`: the gate was decided first (409) or is closed (410). */
export type PostResult = { kind: 'stored' } | { kind: 'decided'; status: number } | { kind: 'failed'; reason: string; attempts: number };

/** Tries to post a verdict this often: the gate's wait ends on it, so a short outage of the relay must not lose it. */
export const VERDICT_ATTEMPTS = 5;
/** A Retry-After longer than this is cut to it: the relay asks for seconds, not hours, and the gate's wait goes on meanwhile. */
const MAX_VERDICT_RETRY_AFTER_MS = 60_000;

/** Posts the verdict to the callback URI; network errors, 408, 429 and 5xx are retried with backoff (Retry-After honoured). Rejects only on abort. */
export async function postVerdict(callbackUri: string, verdict: Verdict, options: { signal: AbortSignal; clock: Clock; fetch?: typeof fetch; redact: Redact }): Promise<PostResult> {
  const body = JSON.stringify(verdict);
  let reason = '';
  for (let attempt = 1; attempt <= VERDICT_ATTEMPTS; attempt++) {
    let retryAfter: number | null = null;
    try {
      const response = await (options.fetch ?? fetch)(callbackUri, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(STATUS_ATTEMPT_TIMEOUT_MS), options.signal]),
      });
      const text = await response.text().catch(() => '');
      if (response.ok) return { kind: 'stored' };
      if (response.status === 409 || response.status === 410) return { kind: 'decided', status: response.status };
      reason = `HTTP ${response.status}${relayMessage(text, options.redact)}`;
      if (response.status !== 408 && response.status !== 429 && response.status < 500) return { kind: 'failed', reason, attempts: attempt };
      retryAfter = retryAfterMs(response.headers.get('retry-after'), options.clock.now());
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      // Never the URI itself: its token decides the gate.
      reason = networkReason(error, STATUS_ATTEMPT_TIMEOUT_MS).split(callbackUri).join('the callback URI');
    }
    if (attempt < VERDICT_ATTEMPTS) await options.clock.sleep(Math.max(backoffMs(attempt - 1), Math.min(retryAfter ?? 0, MAX_VERDICT_RETRY_AFTER_MS)), options.signal);
  }
  return { kind: 'failed', reason, attempts: VERDICT_ATTEMPTS };
}

/** The relay's `{message}` of an error answer, short and redacted. */
function relayMessage(text: string, redact: Redact): string {
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not the relay's JSON (a proxy's page): quoted as it is.
  }
  const quote = truncateCodePoints(redact(message), QUOTE_CHARS, '…').replace(/\s+/g, ' ').trim();
  return quote ? `: ${quote}` : '';
}

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
    const cause = error.cause instanceof Error ? error.cause.message : '';
    return cause ? `${error.message}: ${cause}` : error.message;
  }
  return String(error);
}

/** Only the host: the rest of a status URL (its query, say) may carry a secret. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}

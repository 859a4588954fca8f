/** Renders a webhook definition and calls the external system, retrying with backoff, signed when a secret applies. */
import { errorMessage } from '../lib/errors.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import type { Redact } from '../output/redact.ts';
import type { RequestTemplate, WebhookDef } from '../plan/plan.ts';
import { bodyPlacement, renderTemplate, templateNames } from '../plan/template.ts';
import { backoffMs, formatDuration, systemClock } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';
import { hostOf, networkReason, readCapped, retryable, signed, waitAsked } from './http.ts';
import { createSigner, newMessageId } from './webhook-signing.ts';
import type { WebhookSigner } from './webhook-signing.ts';

/** One outgoing call may take this long before it counts as a failed attempt. */
const ATTEMPT_TIMEOUT_MS = 30_000;
/** For a cancel call: the runner kills a canceled job about 10 s after the cancel, post step included. */
export const CANCEL_ATTEMPT_TIMEOUT_MS = 5_000;
/** Bytes of a failed response kept for the error message. */
const ERROR_BODY_CHARS = 300;
const SIGNING_INPUT = 'the webhook-signing-secret input';

export interface WebhookRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  /** Signs every attempt with Standard Webhooks headers; absent or null: sent unsigned. */
  signer?: WebhookSigner | null;
}

export interface RenderOptions {
  /** The webhook-signing-secret input; a webhook's own `signingSecret` wins, `signingSecret: false` opts out. */
  signingSecret?: string | null;
}

/** Most bytes of an answer's body read: a 2xx's for the webhook's `monitor` (`{{response.body.*}}`), an error's for its message. */
export const MAX_ANSWER_BODY_BYTES = 64 * 1024;

export type WebhookCallResult =
  | {
      ok: true;
      status: number;
      attempts: number;
      messageId?: string;
      /** The answer's headers and body (null: larger than MAX_ANSWER_BODY_BYTES, not read): a monitor reads where to poll from them. */
      headers: Headers;
      body: string | null;
    }
  | { ok: false; reason: string; attempts: number; messageId?: string };

type Vars = (name: string) => string | undefined;

/** The call as the external system will see it; `vars` resolves template names. Throws on a missing or unusable secret. */
export function renderWebhook(def: WebhookDef, vars: Vars, options: RenderOptions = {}): WebhookRequest {
  return renderRequest(def, vars, signerFor(def, vars, options.signingSecret ?? null));
}

/** The `cancelTemplate` request, with the same variables and signing as the call; null when the webhook has none. */
export function renderCancel(def: WebhookDef, vars: Vars, options: RenderOptions = {}): WebhookRequest | null {
  if (def.cancel === null) return null;
  return renderRequest(def.cancel, vars, signerFor(def, vars, options.signingSecret ?? null));
}

/**
 * Every signing secret that cannot be used, for a check before anything runs: the input's, and each
 * webhook's `{{secrets.NAME}}`. The messages name where a secret comes from, never its value.
 */
export function checkSigningSecrets(webhooks: Readonly<Record<string, WebhookDef>>, secrets: Readonly<Record<string, string>>, inputSecret: string | null): string[] {
  const problems: string[] = [];
  const vars: Vars = (name) => {
    const key = name.slice('secrets.'.length);
    return name.startsWith('secrets.') && Object.hasOwn(secrets, key) ? secrets[key] : undefined;
  };
  const attempt = (make: () => unknown): void => {
    try {
      make();
    } catch (error) {
      problems.push(errorMessage(error));
    }
  };
  if (inputSecret) attempt(() => createSigner(inputSecret, SIGNING_INPUT));
  for (const def of Object.values(webhooks)) {
    if (typeof def.signingSecret === 'string') attempt(() => signerFor(def, vars, null));
  }
  return problems;
}

function signerFor(def: WebhookDef, vars: Vars, inputSecret: string | null): WebhookSigner | null {
  if (def.signingSecret === false) return null;
  if (def.signingSecret === null) return inputSecret ? createSigner(inputSecret, SIGNING_INPUT) : null;
  // The load-time check guarantees `{{secrets.NAME}}` alone, so its one name is safe to show.
  const name = templateNames(def.signingSecret)[0] ?? 'signingSecret';
  const source = `{{${name}}} (signingSecret of webhook ${def.name})`;
  const secret = vars(name);
  if (secret === undefined) throw new Error(`the webhook signing secret from ${source} has no value`);
  return createSigner(secret, source);
}

function renderRequest(template: RequestTemplate, vars: Vars, signer: WebhookSigner | null): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const { key, value } of template.headers) headers[key] = renderTemplate(value, vars, 'header');
  const body = template.bodyTemplate === null ? null : renderTemplate(template.bodyTemplate, vars, bodyPlacement(template.bodyTemplate, headers));
  if (body !== null && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = looksLikeJson(body) ? 'application/json' : 'text/plain; charset=utf-8';
  }
  const request: WebhookRequest = { method: template.method, url: renderTemplate(template.uriTemplate, vars, 'uri'), headers, body };
  if (signer !== null) request.signer = signer;
  return request;
}

export interface CallOptions {
  retryCount: number;
  signal?: AbortSignal;
  /** How long one attempt may take; default 30 s. */
  attemptTimeoutMs?: number;
  clock?: Clock;
  fetch?: typeof fetch;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (reason: string, attempt: number, delayMs: number) => void;
  /** When the step ends (epoch ms): no retry waits past it, whatever Retry-After asks. */
  deadline?: number;
  /** Jitter's source, 0 ≤ x < 1; default Math.random (tests pass a constant). */
  random?: () => number;
  /**
   * Applied to an error answer's body before it is cut to its first characters: cut first, an
   * echoed secret could lose its end and, half there, no longer be recognised (and masked).
   */
  redact: Redact;
}

/**
 * Calls the webhook. Network errors, 408, 429, 5xx and a rate-limited 403 are retried `retryCount`
 * times, after an exponential backoff with jitter or the wait the answer asks for (Retry-After, a
 * rate limit's reset), whichever is longer, and never past the step's deadline; any other answer
 * (a 4xx) fails at once, quoting it. A signed request keeps one `webhook-id` for all its attempts,
 * with a fresh timestamp and signature each.
 */
export async function callWebhook(request: WebhookRequest, options: CallOptions): Promise<WebhookCallResult> {
  const clock = options.clock ?? systemClock;
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
  // Encoded once: the signature covers exactly the bytes sent.
  const body = hasBody ? new TextEncoder().encode(request.body ?? '') : null;
  const signer = request.signer ?? null;
  const messageId = signer === null ? undefined : newMessageId();
  const tag = messageId === undefined ? {} : { messageId };
  let reason = '';
  for (let attempt = 0; attempt <= options.retryCount; attempt++) {
    let retryAfter: number | null = null;
    const signals = [AbortSignal.timeout(timeoutMs)];
    if (options.signal) signals.push(options.signal);
    try {
      const headers = signer === null || messageId === undefined ? request.headers : signed(request.headers, signer, messageId, clock.now(), body);
      const response = await fetchImpl(request.url, {
        method: request.method,
        headers,
        body,
        signal: AbortSignal.any(signals),
        redirect: 'follow',
      });
      // Capped: an answer of any size is never held whole in memory.
      const { text, cut } = await readCapped(response, MAX_ANSWER_BODY_BYTES);
      if (response.ok) return { ok: true, status: response.status, attempts: attempt + 1, ...tag, headers: response.headers, body: cut ? null : text };
      reason = `HTTP ${response.status}${text ? `: ${truncateCodePoints(options.redact(text), ERROR_BODY_CHARS)}` : ''}`;
      // Another attempt gets the same answer: a 4xx other than 408, 429 and a rate-limited 403 fails at once.
      if (!retryable(response)) return { ok: false, reason, attempts: attempt + 1, ...tag };
      retryAfter = waitAsked(response.headers, clock.now());
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      // "Failed to parse URL from <url>": the whole URL, query and all, would reach the log.
      reason = networkReason(error, timeoutMs).split(request.url).join(hostOf(request.url));
    }
    if (attempt < options.retryCount) {
      const backoff = backoffMs(attempt);
      const delay = Math.max(Math.round(backoff / 2 + ((options.random ?? Math.random)() * backoff) / 2), retryAfter ?? 0);
      if (options.deadline !== undefined && clock.now() + delay >= options.deadline) {
        return { ok: false, reason: `${reason}; no attempt left before the step's deadline (the next would be in ${formatDuration(delay)})`, attempts: attempt + 1, ...tag };
      }
      options.onRetry?.(reason, attempt + 1, delay);
      await clock.sleep(delay, options.signal);
    }
  }
  return { ok: false, reason, attempts: options.retryCount + 1, ...tag };
}

function looksLikeJson(body: string): boolean {
  const trimmed = body.trim();
  return trimmed.startsWith('{') || trimmed.startsWith('[');
}

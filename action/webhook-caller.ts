/** Renders a webhook definition and calls the external system, retrying with backoff. */
import type { WebhookDef } from './plan.ts';
import { renderTemplate } from './template.ts';
import { backoffMs, systemClock } from './time.ts';
import type { Clock } from './time.ts';

/** One outgoing call may take this long before it counts as a failed attempt. */
const ATTEMPT_TIMEOUT_MS = 30_000;
/** Bytes of a failed response kept for the error message. */
const ERROR_BODY_CHARS = 300;

export interface WebhookRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

export type WebhookCallResult =
  | { ok: true; status: number; attempts: number }
  | { ok: false; reason: string; attempts: number };

/** The request as the external system will see it; `vars` resolves template names. */
export function renderWebhook(def: WebhookDef, vars: (name: string) => string | undefined): WebhookRequest {
  const headers: Record<string, string> = {};
  for (const { key, value } of def.headers) headers[key] = renderTemplate(value, vars);
  const body = def.bodyTemplate === null ? null : renderTemplate(def.bodyTemplate, vars);
  if (body !== null && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = looksLikeJson(body) ? 'application/json' : 'text/plain; charset=utf-8';
  }
  return { method: def.method, url: renderTemplate(def.uriTemplate, vars), headers, body };
}

export interface CallOptions {
  retryCount: number;
  signal?: AbortSignal;
  clock?: Clock;
  fetch?: typeof fetch;
  /** Told about each failed attempt that will be retried. */
  onRetry?: (reason: string, attempt: number, delayMs: number) => void;
}

/** Calls the webhook; network errors and non-2xx answers are retried `retryCount` times. */
export async function callWebhook(request: WebhookRequest, options: CallOptions): Promise<WebhookCallResult> {
  const clock = options.clock ?? systemClock;
  const fetchImpl = options.fetch ?? fetch;
  const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
  let reason = '';
  for (let attempt = 0; attempt <= options.retryCount; attempt++) {
    const signals = [AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)];
    if (options.signal) signals.push(options.signal);
    try {
      const response = await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        body: hasBody ? request.body : null,
        signal: AbortSignal.any(signals),
        redirect: 'follow',
      });
      const text = await response.text().catch(() => '');
      if (response.ok) return { ok: true, status: response.status, attempts: attempt + 1 };
      reason = `HTTP ${response.status}${text ? `: ${text.slice(0, ERROR_BODY_CHARS)}` : ''}`;
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      reason = networkReason(error);
    }
    if (attempt < options.retryCount) {
      const delay = backoffMs(attempt);
      options.onRetry?.(reason, attempt + 1, delay);
      await clock.sleep(delay, options.signal);
    }
  }
  return { ok: false, reason, attempts: options.retryCount + 1 };
}

function networkReason(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`;
    const cause = error.cause instanceof Error ? error.cause.message : '';
    return cause ? `${error.message}: ${cause}` : error.message;
  }
  return String(error);
}

function looksLikeJson(body: string): boolean {
  const trimmed = body.trim();
  return trimmed.startsWith('{') || trimmed.startsWith('[');
}

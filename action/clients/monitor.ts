/** A webhook monitor's status request: rendered and signed like the webhook's call, sent once per poll, its answer classified. */
import { truncateCodePoints } from '../../shared/text.ts';
import type { Redact } from '../output/redact.ts';
import type { MonitorDef, WebhookDef } from '../plan/plan.ts';
import { backoffMs } from '../lib/time.ts';
import type { Clock } from '../lib/time.ts';
import { hostOf, networkReason, readCapped, retryable, retryAfterMs, signed, waitAsked } from './http.ts';
import { renderWebhook } from './webhook.ts';
import type { RenderOptions, WebhookRequest } from './webhook.ts';
import { newMessageId } from './webhook-signing.ts';

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
  /** Another poll may see something else: network error, timeout, 408, 429, 5xx, a rate-limited 403. */
  | { kind: 'transient'; reason: string; retryAfterMs: number | null }
  /** Another poll gets the same: any other answer (a 4xx), or a redirect (`redirectTo`: the host of its Location, never followed). */
  | { kind: 'refused'; status: number; quote: string; redirectTo?: string };

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

/**
 * Sends the status request once. A redirect is not followed: it would carry the monitor's headers
 * (its credentials) to wherever the Location says. Rejects only with the signal's reason once it aborts.
 */
export async function requestStatus(request: WebhookRequest, options: StatusOptions): Promise<StatusAnswer> {
  const timeoutMs = options.attemptTimeoutMs ?? STATUS_ATTEMPT_TIMEOUT_MS;
  const hasBody = request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
  const body = hasBody ? new TextEncoder().encode(request.body ?? '') : null;
  try {
    // Each poll is a message of its own: a fresh `webhook-id`, timestamp and signature.
    const headers = request.signer ? signed(request.headers, request.signer, newMessageId(), options.now(), body) : request.headers;
    const response = await (options.fetch ?? fetch)(request.url, {
      method: request.method,
      headers,
      body,
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), options.signal]),
      redirect: 'manual',
    });
    const { text, cut } = await readCapped(response, MAX_STATUS_BYTES);
    const quote = (value: string): string => truncateCodePoints(options.redact(value), QUOTE_CHARS, '…').replace(/\s+/g, ' ').trim();
    if (response.ok) {
      if (cut) return { kind: 'not-json', status: response.status, quote: null };
      try {
        return { kind: 'json', status: response.status, json: JSON.parse(text) as unknown };
      } catch {
        return { kind: 'not-json', status: response.status, quote: quote(text) };
      }
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      return { kind: 'refused', status: response.status, quote: '', redirectTo: location === null ? 'nowhere (no Location)' : (URL.parse(location, request.url)?.host ?? 'an invalid URL') };
    }
    // As for the call: 408, 429, 5xx and a rate limit may change on another try; another 4xx (401, 404) will not.
    if (retryable(response)) {
      const reason = `HTTP ${response.status}${text ? `: ${quote(text)}` : ''}`;
      return { kind: 'transient', reason, retryAfterMs: waitAsked(response.headers, options.now()) };
    }
    return { kind: 'refused', status: response.status, quote: quote(text) };
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    // "Failed to parse URL from <url>": the whole URL, query and all, would reach the log.
    const reason = networkReason(error, timeoutMs).split(request.url).join(hostOf(request.url));
    return { kind: 'transient', reason, retryAfterMs: null };
  }
}

/** A monitor's decision, posted to its gate's callback URI like an external system's (SPEC §3). */
export interface Verdict {
  success: boolean;
  mdMessage: string;
  outputs?: Record<string, string>;
}

/**
 * `stored`: the relay has it; `decided`: the gate was decided first (409) or is closed (410);
 * `refused`: the relay will never take it (another 4xx: a wrong callback URI, a verdict it refuses).
 */
export type PostResult = { kind: 'stored'; attempts: number } | { kind: 'decided'; status: number } | { kind: 'refused'; reason: string };

/** Failed attempts after which `onFailing` is told, once: a short outage of the relay is not worth a warning. */
export const VERDICT_ATTEMPTS = 5;
/** The longest wait between two attempts, whatever the backoff or a Retry-After says: the gate waits on the verdict meanwhile. */
export const MAX_VERDICT_GAP_MS = 60_000;

export interface PostOptions {
  signal: AbortSignal;
  clock: Clock;
  fetch?: typeof fetch;
  redact: Redact;
  /** Told once, after VERDICT_ATTEMPTS failed attempts, why the relay does not take the verdict yet. */
  onFailing?: (reason: string, attempts: number) => void;
}

/**
 * Posts the verdict to the callback URI until the relay stores it, answers it decided, or refuses it.
 * Network errors, 408, 429 and 5xx are tried again for as long as the signal lives, with backoff
 * (Retry-After honoured) never more than MAX_VERDICT_GAP_MS apart: given up, the gate would wait out
 * its whole timeout for a verdict already known. Rejects only with the signal's reason once it aborts.
 */
export async function postVerdict(callbackUri: string, verdict: Verdict, options: PostOptions): Promise<PostResult> {
  const body = JSON.stringify(verdict);
  for (let attempt = 1; ; attempt++) {
    let retryAfter: number | null = null;
    let reason: string;
    try {
      const response = await (options.fetch ?? fetch)(callbackUri, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(STATUS_ATTEMPT_TIMEOUT_MS), options.signal]),
      });
      const { text } = await readCapped(response, MAX_STATUS_BYTES);
      if (response.ok) return { kind: 'stored', attempts: attempt };
      if (response.status === 409 || response.status === 410) return { kind: 'decided', status: response.status };
      reason = `HTTP ${response.status}${relayMessage(text, options.redact)}`;
      if (response.status !== 408 && response.status !== 429 && response.status < 500) return { kind: 'refused', reason };
      retryAfter = retryAfterMs(response.headers.get('retry-after'), options.clock.now());
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      // Never the URI itself: its token decides the gate.
      reason = networkReason(error, STATUS_ATTEMPT_TIMEOUT_MS).split(callbackUri).join('the callback URI');
    }
    if (attempt === VERDICT_ATTEMPTS) options.onFailing?.(reason, attempt);
    const backoff = backoffMs(attempt - 1, 1000, MAX_VERDICT_GAP_MS);
    await options.clock.sleep(Math.min(Math.max(backoff, retryAfter ?? 0), MAX_VERDICT_GAP_MS), options.signal);
  }
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

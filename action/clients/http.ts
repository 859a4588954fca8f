/**
 * What the webhook's call and its monitor's status requests share: signing an attempt, reading an
 * answer within a limit, saying why an attempt failed without its URL, and which answers may change.
 */
import { SIGNATURE_HEADERS } from './webhook-signing.ts';
import type { WebhookSigner } from './webhook-signing.ts';

/** The request's headers with the three signature headers; same-named ones, in any case, are replaced. */
export function signed(headers: Record<string, string>, signer: WebhookSigner, id: string, nowMs: number, body: Uint8Array | null): Record<string, string> {
  const kept = Object.entries(headers).filter(([key]) => !SIGNATURE_HEADERS.includes(key.toLowerCase()));
  return { ...Object.fromEntries(kept), ...signer.headers(id, Math.floor(nowMs / 1000), body ?? new Uint8Array()) };
}

/** An answer's body read up to `max` bytes: `text` its start (never ending inside a character), `cut` whether there was more (not read). */
export async function readCapped(response: Response, max: number): Promise<{ text: string; cut: boolean }> {
  if (!response.body) return { text: '', cut: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let cut = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size > max) {
        cut = true;
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } catch {
    // The connection dropped mid-body: what came is all there is.
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  const text = new TextDecoder().decode(all.subarray(0, Math.min(size, max)));
  // A cut inside a character decodes to U+FFFD at the end: drop it.
  return { text: cut ? text.replace(/\uFFFD$/, '') : text, cut };
}

/** Why a fetch threw, short: a timeout as such, else the error and its cause. Callers take the URL out of it. */
export function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
    const cause = error.cause instanceof Error ? error.cause.message : '';
    return cause ? `${error.message}: ${cause}` : error.message;
  }
  return String(error);
}

/** Only the host: the rest of a webhook or status URL (its query, say) may carry a secret. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}

/**
 * Answers another attempt may change: 408, 429, every 5xx, and a 403 that says it is a rate limit
 * (GitHub answers an exhausted or secondary rate limit so: with Retry-After or `x-ratelimit-remaining: 0`).
 */
export function retryable(response: Response): boolean {
  const { status, headers } = response;
  if (status === 408 || status === 429 || status >= 500) return true;
  return status === 403 && (headers.has('retry-after') || headers.get('x-ratelimit-remaining')?.trim() === '0');
}

/**
 * How long an answer asks to be left alone, in ms from `now`: its Retry-After, else, for an
 * exhausted rate limit, until its `x-ratelimit-reset` (epoch seconds); null when it says neither.
 */
export function waitAsked(headers: Headers, now: number): number | null {
  const retryAfter = retryAfterMs(headers.get('retry-after'), now);
  if (retryAfter !== null) return retryAfter;
  const reset = headers.get('x-ratelimit-reset')?.trim() ?? '';
  if (headers.get('x-ratelimit-remaining')?.trim() !== '0' || !/^\d{1,12}$/.test(reset)) return null;
  return Math.max(0, Number(reset) * 1000 - now);
}

/** Retry-After in ms from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d{1,9}$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) || !/[a-z]/i.test(value) ? null : Math.max(0, at - now);
}

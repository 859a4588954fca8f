/**
 * Requests for the relay fuzz, run inside workerd: request bodies as sent (intact, broken,
 * oversized, streamed), the JSON reading the relay must do, the checks every answer must pass,
 * and the tally of answers by endpoint and status. No Node-only imports.
 */
import { asciiString, deepJsonText, INVALID_UTF8, isRecord, randomJsonText } from './fuzz-random.ts';
import type { Rng } from './fuzz-random.ts';

/** Largest body the relay reads (SPEC §3), repeated here so the oracle does not borrow the relay's constant. */
export const BODY_LIMIT = 64 * 1024;

/** A request body as the fuzz sends it: bytes, optionally streamed, with the headers that describe it. */
export interface FuzzBody {
  label: string;
  bytes: Uint8Array<ArrayBuffer>;
  /** Sent as a ReadableStream in chunks, so no Content-Length reaches the Worker. */
  stream: boolean;
  /** A Content-Length header to send as is (true, or a lie); none when undefined. */
  contentLength?: string;
  /** undefined: no Content-Type header. */
  contentType?: string;
}

export const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz', 'application/json; charset=latin1', 'application/xml', '*/*', 'APPLICATION/JSON', 'x',
];

const utf8 = new TextEncoder();

/** UTF-8 bytes with a plain ArrayBuffer behind them, as a request body needs. */
export function encode(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(utf8.encode(text));
}

/** A body of these bytes (or this text in UTF-8), sometimes streamed, with a random Content-Type. */
export function withBytes(label: string, text: string | Uint8Array<ArrayBuffer>, rng: Rng): FuzzBody {
  return { label, bytes: typeof text === 'string' ? encode(text) : text, stream: rng.chance(0.05), contentType: rng.pick(CONTENT_TYPES) };
}

/** An oversized body (over 64 KiB): with its true Content-Length, with a small lying one, or streamed with none. */
export function oversized(rng: Rng, prefix: string): FuzzBody {
  const size = BODY_LIMIT + rng.pick([1, 2, 100, 8192, 100_000]);
  const bytes = encode(`${prefix}${'x'.repeat(Math.max(0, size - prefix.length - 2))}"}`);
  switch (rng.int(3)) {
    case 0:
      return { label: 'oversized-true-length', bytes, stream: false, contentLength: String(bytes.length), contentType: 'application/json' };
    case 1:
      return { label: 'oversized-lying-length', bytes, stream: false, contentLength: rng.pick(['10', '0', '100', '65536']), contentType: 'application/json' };
    default:
      return { label: 'oversized-streamed', bytes, stream: true, contentType: 'application/json' };
  }
}

/** The body as fetch's RequestInit wants it. */
export function requestBody(body: FuzzBody): BodyInit {
  if (!body.stream) return body.bytes;
  let at = 0;
  const bytes = body.bytes;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const size = Math.max(1, Math.min(16_384, bytes.length - at));
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** Headers for a fuzz body: its Content-Type and any Content-Length it carries. */
export function bodyHeaders(body: FuzzBody): Record<string, string> {
  const headers: Record<string, string> = {};
  if (body.contentType !== undefined) headers['content-type'] = body.contentType;
  if (body.contentLength !== undefined) headers['content-length'] = body.contentLength;
  return headers;
}

/**
 * Methods beyond POST, as clients send them (fetch upper-cases only the standard ones). workerd's
 * fetch refuses methods it does not know (a TypeError before anything is sent): the tests skip those.
 */
export const OTHER_METHODS: readonly string[] = ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'patch', 'PROPFIND', 'MKCOL', 'SEARCH', 'QUERY', 'FOO', 'Post', 'TRACE', 'CONNECT'];

/** Whether fetch refused to send the request at all (an unknown or forbidden method, a header it cannot carry). */
export function clientRefused(error: unknown): boolean {
  return error instanceof TypeError;
}

/** Counts answers per endpoint and status, for the report. */
export class StatusTally {
  readonly counts = new Map<string, Map<number, number>>();

  add(endpoint: string, status: number): void {
    const byStatus = this.counts.get(endpoint) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.counts.set(endpoint, byStatus);
  }

  get total(): number {
    let n = 0;
    for (const byStatus of this.counts.values()) for (const c of byStatus.values()) n += c;
    return n;
  }

  byStatus(): Map<number, number> {
    const all = new Map<number, number>();
    for (const byStatus of this.counts.values()) for (const [s, c] of byStatus) all.set(s, (all.get(s) ?? 0) + c);
    return all;
  }

  format(title: string, elapsedMs: number): string {
    const line = (m: Map<number, number>): string => [...m].sort(([a], [b]) => a - b).map(([s, c]) => `${s}×${c}`).join(' ');
    return [
      `${title}: ${this.total} requests in ${(elapsedMs / 1000).toFixed(1)} s; by status: ${line(this.byStatus())}`,
      ...[...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([endpoint, m]) => `  ${endpoint.padEnd(34)} ${line(m)}`),
    ].join('\n');
  }
}

const STACK_TRACE = /\n\s+at \S|\bat \S+ \(|\.ts:\d+|\.js:\d+:\d+/;

/** What is wrong with a relay answer: a 5xx, a JSON error that is not `{error, message}`, a page without its headers, a stack trace. */
export async function answerProblem(res: Response, method: string, expect: 'json' | 'page' | 'either'): Promise<string | null> {
  const text = method.toUpperCase() === 'HEAD' ? '' : await res.text();
  if (res.status >= 500) return `status ${res.status}: ${text.slice(0, 300)}`;
  if (STACK_TRACE.test(text)) return `a stack trace in the body: ${text.slice(0, 300)}`;
  const type = res.headers.get('content-type') ?? '';
  const isPage = type === 'text/html; charset=utf-8';
  if (expect === 'page' && !isPage) return `expected an HTML page, got ${type || 'no content type'} (${res.status})`;
  if (expect === 'json' && isPage) return `expected JSON, got an HTML page (${res.status})`;
  if (isPage) {
    if (!(res.headers.get('content-security-policy') ?? '').includes("default-src 'none'")) return `a page without its CSP (${res.status})`;
    if (res.headers.get('x-content-type-options') !== 'nosniff' || res.headers.get('cache-control') !== 'no-store') return `a page without its headers (${res.status})`;
    return null;
  }
  if (method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 303) return null;
  if (!/^application\/json/.test(type)) return `status ${res.status} with content type '${type}': ${text.slice(0, 200)}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${res.status}: the body is not JSON: ${text.slice(0, 200)}`;
  }
  if (res.status >= 400) {
    if (!isRecord(body) || typeof body.error !== 'string' || typeof body.message !== 'string' || body.message === '') {
      return `status ${res.status}: not {error, message}: ${text.slice(0, 200)}`;
    }
  }
  return null;
}

/** A JSON request body as sent: the text as is, or broken on the way (truncated, random bytes, bad UTF-8, oversized, nested deep). */
export function jsonRequestBody(rng: Rng, text: string, intact = 0.75): FuzzBody {
  if (rng.chance(intact)) return withBytes('json', text, rng);
  const kind = rng.pick(['truncated', 'random-bytes', 'invalid-utf8', 'oversized', 'deep-nesting', 'empty', 'bom', 'random-json', 'form']);
  switch (kind) {
    case 'truncated':
      return withBytes(kind, text.slice(0, rng.int(text.length)), rng);
    case 'random-bytes':
      return withBytes(kind, rng.bytes(rng.range(0, 1024)), rng);
    case 'invalid-utf8': {
      const bytes = Array.from(encode(text));
      bytes.splice(rng.int(bytes.length + 1), 0, ...rng.pick(INVALID_UTF8));
      return withBytes(kind, new Uint8Array(bytes), rng);
    }
    case 'oversized':
      return { ...oversized(rng, `${text.slice(0, -1)}, "padding": "`), label: 'oversized' };
    case 'deep-nesting':
      return withBytes(kind, deepJsonText(rng, rng.pick([1000, 10_000, 30_000])), rng);
    case 'empty':
      return withBytes(kind, rng.pick(['', ' ', 'null', '[]', '{}', '""']), rng);
    case 'bom':
      return withBytes(kind, `\ufeff${text}`, rng);
    case 'form':
      return { ...withBytes(kind, new URLSearchParams({ body: text }).toString(), rng), contentType: 'application/x-www-form-urlencoded' };
    default:
      return withBytes(kind, randomJsonText(rng, 4), rng);
  }
}

/**
 * How the relay must read a JSON body (SPEC §3's limits apply to every route): the value, or the
 * status refusing it. A leading BOM is dropped, as a UTF-8 decoder does by default (RFC 8259 §8.1
 * lets a parser ignore it). A string value with an unpaired surrogate (`"\\ud800"`, which no
 * UTF-8 text can hold and SQLite would store mangled) is refused.
 */
export function readJsonBody(body: FuzzBody, limit = BODY_LIMIT): { ok: true; value: unknown } | { ok: false; status: 400 | 413 } {
  if (body.bytes.length > limit || Number(body.contentLength ?? '0') > limit) return { ok: false, status: 413 };
  let wellFormed = true;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body.bytes), (_key, field: unknown) => {
      if (typeof field === 'string' && !field.isWellFormed()) wellFormed = false;
      return field;
    });
    return wellFormed ? { ok: true, value } : { ok: false, status: 400 };
  } catch {
    return { ok: false, status: 400 };
  }
}

/** A JSON text for `value` with one field swapped for another value, dropped, or one added. */
export function mutateFields(rng: Rng, value: Record<string, unknown>, choices: Readonly<Record<string, readonly unknown[]>>): string {
  const out: Record<string, unknown> = { ...value };
  const keys = Object.keys(choices);
  for (let n = rng.range(0, 2); n > 0; n--) {
    const key = rng.pick(keys);
    const pick = rng.int(10);
    if (pick === 0) Reflect.deleteProperty(out, key);
    else out[key] = rng.pick(choices[key] ?? [null]);
  }
  let text = JSON.stringify(out);
  if (rng.chance(0.05)) text = `${text.slice(0, -1)}, ${JSON.stringify(rng.pick(['extra', '__proto__', 'constructor', asciiString(rng, 6)]))}: ${randomJsonText(rng, 2)}}`;
  // JSON.stringify cannot write numbers past double range; a raw one goes in by hand.
  if (rng.chance(0.03)) text = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''} ${JSON.stringify(rng.pick(keys))}: ${rng.pick(['1e309', '-1e309', '123456789012345678901234567890'])}}`;
  return text;
}

/** The approval fuzz's forms (fuzz.test.ts): fields right, wrong, missing or doubled, and bodies as browsers and junk send them. */
import { MAX_APPROVER_CHARS, MAX_COMMENT_CHARS } from '../../../shared/protocol.ts';
import { BODY_LIMIT } from '../../support/fuzz-http.ts';
import type { FuzzBody } from '../../support/fuzz-http.ts';
import { asciiString, INVALID_UTF8, unicodeString } from '../../support/fuzz-random.ts';
import type { Rng } from '../../support/fuzz-random.ts';

/** The anti-forgery cookie nonce and form token of one approval page. */
export interface Credentials {
  nonce: string;
  csrf: string;
}

function field(rng: Rng, values: readonly (readonly [number, string[] | undefined])[]): string[] {
  return rng.weighted(values) ?? [];
}

/** A form's fields: each right, wrong, missing or given twice. */
export function formFields(rng: Rng, own: Credentials, other: Credentials, valid: number): [string, string][] {
  const csrf = field(rng, [
    [30 * valid, [own.csrf]], [1, []], [1, ['']], [1, [other.csrf]], [1, [`${own.csrf}A`]], [1, [own.csrf, own.csrf]], [1, [asciiString(rng, 43)]],
    [1, [own.csrf.slice(0, -1)]], [1, [own.csrf.toLowerCase()]],
  ]);
  const decision = field(rng, [
    [16, ['approve']], [12, ['reject']], [1, []], [1, ['']], [1, ['APPROVE']], [1, ['approve ']], [1, ['approve', 'reject']], [1, ['approve', 'approve']],
    [1, [asciiString(rng, 10)]], [1, ['yes']],
  ]);
  const crlf = 'ab\r\n'.repeat(Math.floor(MAX_COMMENT_CHARS / 3)).slice(0, MAX_COMMENT_CHARS + 300);
  const comment = field(rng, [
    [8, undefined], [4, ['']], [8, [asciiString(rng, 60)]], [3, [unicodeString(rng)]], [1, ['c'.repeat(MAX_COMMENT_CHARS)]],
    [1, ['c'.repeat(MAX_COMMENT_CHARS + 1)]], [1, [crlf]], [1, ['one', 'two']], [1, ['  padded  ']],
  ]);
  const approver = field(rng, [
    [8, undefined], [4, ['']], [8, [asciiString(rng, 20)]], [2, [unicodeString(rng, 8)]], [1, ['a'.repeat(MAX_APPROVER_CHARS)]],
    [1, ['a'.repeat(MAX_APPROVER_CHARS + 1)]], [1, ['x', 'y']], [1, ['   ']],
  ]);
  const pairs: [string, string][] = [
    ...csrf.map((v): [string, string] => ['csrf', v]),
    ...decision.map((v): [string, string] => ['decision', v]),
    ...comment.map((v): [string, string] => ['comment', v]),
    ...approver.map((v): [string, string] => ['approver', v]),
  ];
  if (rng.chance(0.15)) pairs.push([rng.pick(['__proto__', 'constructor', 'gateId', 'state', asciiString(rng, 8)]), asciiString(rng, 20)]);
  return rng.chance(0.2) ? rng.shuffle(pairs) : pairs;
}

function bytesOf(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new TextEncoder().encode(text));
}

/** The form as bytes: mostly as a browser encodes it, sometimes raw junk, invalid UTF-8 or over 64 KiB. */
export function formBody(rng: Rng, pairs: [string, string][], contentType: string | undefined): { body: FuzzBody; label: string } {
  const encoded = new URLSearchParams(pairs).toString();
  const kind = rng.weighted<string>([[90, 'form'], [2, 'random-bytes'], [2, 'invalid-utf8'], [2, 'bad-percent'], [2, 'oversized'], [2, 'streamed']]);
  const body = (bytes: Uint8Array<ArrayBuffer>, extra: Partial<FuzzBody> = {}): FuzzBody => ({
    label: kind, bytes, stream: false, ...(contentType === undefined ? {} : { contentType }), ...extra,
  });
  switch (kind) {
    case 'random-bytes':
      return { label: kind, body: body(rng.bytes(rng.range(0, 512))) };
    case 'invalid-utf8': {
      const bytes = Array.from(bytesOf(encoded));
      bytes.splice(rng.int(bytes.length + 1), 0, ...rng.pick(INVALID_UTF8));
      return { label: kind, body: body(new Uint8Array(bytes)) };
    }
    case 'bad-percent':
      return { label: kind, body: body(bytesOf(`${encoded}&comment=%&approver=%ZZ%E0%A4`)) };
    case 'oversized': {
      const big = bytesOf(`${encoded}&padding=${'p'.repeat(BODY_LIMIT)}`);
      const lie = rng.chance(0.5);
      return { label: lie ? 'oversized-lying-length' : 'oversized-true-length', body: body(big, { contentLength: lie ? '100' : String(big.length) }) };
    }
    case 'streamed':
      return { label: kind, body: body(bytesOf(encoded), { stream: true }) };
    default:
      return { label: kind, body: body(bytesOf(encoded)) };
  }
}

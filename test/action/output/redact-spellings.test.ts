import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../../action/output/redact.ts';

// An external system's answer echoes what it received (URL, headers, body), in its own encoding.
const SECRET = `Q"x\\y:{z}'&<w>|%2F /é😀*tail`;
const redact = createRedactor([SECRET]);

const lowerHex = (text: string): string => text.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
const json = (text: string): string => JSON.stringify(text).slice(1, -1);
/** Go's encoding/json and others write <, >, & (and some ') as \u00xx. */
const jsonU = (text: string, hexCase: (h: string) => string): string =>
  json(text).replace(/[<>&']/g, (c) => `\\u${hexCase(c.charCodeAt(0).toString(16).padStart(4, '0'))}`);
const html = (text: string, apostrophe: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, apostrophe);
const numeric = (text: string, radix: 10 | 16): string =>
  [...text].map((c) => (/[A-Za-z0-9]/.test(c) ? c : radix === 10 ? `&#${c.codePointAt(0)};` : `&#x${(c.codePointAt(0) ?? 0).toString(16)};`)).join('');
const base64 = (text: string): string => Buffer.from(text).toString('base64');
const urlSafe = (b64: string): string => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const SPELLINGS: [string, string][] = [
  ['percent-encoded, lower-case hex', lowerHex(encodeURIComponent(SECRET))],
  ['form-encoded, lower-case hex', lowerHex(new URLSearchParams({ q: SECRET }).toString().slice(2))],
  ['a URL as fetch sends it, lower-case hex', lowerHex(new URL(`http://x/?q=${SECRET}`).search.slice(3))],
  ['JSON with \\/ (PHP)', json(SECRET).replace(/\//g, '\\/')],
  ['JSON with \\u00xx, lower-case hex', jsonU(SECRET, (h) => h)],
  ['JSON with \\u00xx, upper-case hex', jsonU(SECRET, (h) => h.toUpperCase())],
  ['JSON, non-ASCII as \\uXXXX (ensure_ascii)', json(SECRET).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)],
  ['JSON-escaped twice', json(json(SECRET))],
  ['a URL as fetch sends it, JSON-escaped with \\/', json(new URL(`http://x/?q=${SECRET}`).search.slice(3)).replace(/\//g, '\\/')],
  ['HTML, &#39;', html(SECRET, '&#39;')],
  ['HTML, &#x27;', html(SECRET, '&#x27;')],
  ['HTML, &#039; (PHP)', html(SECRET, '&#039;')],
  ['HTML, &apos;', html(SECRET, '&apos;')],
  ['HTML numeric references, decimal', numeric(SECRET, 10)],
  ['HTML numeric references, hex', numeric(SECRET, 16)],
  ['HTML of JSON', html(json(SECRET), '&#39;')],
  ['HTML of a lower-case percent-encoded URL', html(lowerHex(encodeURIComponent(SECRET)), '&#39;')],
  ['base64', base64(SECRET)],
  ['base64 without padding', base64(SECRET).replace(/=+$/, '')],
  ['base64url', urlSafe(base64(SECRET))],
  // Some encoders escape every character, letters and digits too: no run of the secret survives.
  ['every character percent-encoded', [...Buffer.from(SECRET)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')],
  ['every character a JSON \\u escape', [...SECRET].map((c) => c.split('').map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')).join('')],
  ['every character an HTML decimal reference', [...SECRET].map((c) => `&#${c.codePointAt(0)};`).join('')],
];

describe('createRedactor: the spellings an external system echoes a secret in', () => {
  it.each(SPELLINGS)('masks it %s, whole', (_name, spelling) => {
    expect(spelling).not.toBe(SECRET);
    expect(redact(`before ${spelling} after`)).toBe('before *** after');
  });

  it.each([0, 1, 2])('masks base64 of it inside a longer base64 text, starting %i bytes into a 3-byte group', (offset) => {
    const prefix = 'Basic '.repeat(3).slice(0, 3 + offset);
    for (const encode of [base64, (t: string) => urlSafe(base64(t))]) {
      const encoded = encode(`${prefix}${SECRET}:and-more`);
      const masked = redact(`Authorization: ${encoded}`);
      expect(masked).toMatch(/^Authorization: [A-Za-z0-9+/_-]*\*\*\*[A-Za-z0-9+/_=-]*$/);
      // Masked: every character that depends on the secret's bytes alone.
      const hidden = encoded.length - (masked.length - 'Authorization: ***'.length);
      expect(hidden).toBeGreaterThanOrEqual(Math.floor((Buffer.byteLength(SECRET) * 8) / 6) - 2);
    }
  });

  it('masks a secret holding a percent escape itself in a lower-case encoded URL', () => {
    expect(redact(`k=${lowerHex(encodeURIComponent(SECRET))}&k2=${encodeURIComponent(SECRET)}`)).toBe('k=***&k2=***');
  });

  it('masks a secret spelled differently in one text everywhere, and nothing else', () => {
    const text = `{"url":"${json(encodeURIComponent(SECRET))}","header":"${json(SECRET)}"} <p>${html(SECRET, '&#39;')}</p> 100% &amp; \\n`;
    expect(redact(text)).toBe('{"url":"***","header":"***"} <p>***</p> 100% &amp; \\n');
  });

  it('leaves text whose escapes decode to no secret as it was', () => {
    const text = 'a%20b &lt;tag&gt; \\u0041\\"q\\" %zz &#xZZ; &#99999999; \\x';
    expect(createRedactor(['0123456789abcdef'])(text)).toBe(text);
  });

  it('masks each of two secrets next to each other separately', () => {
    const two = createRedactor(['first-secret', 'second-secret']);
    expect(two(`first-secret${encodeURIComponent('second-secret')}`)).toBe('******');
  });

  // Letters and digits let the redactor skip texts cheaply; a secret without them is looked for every time.
  it('masks an encoded secret of punctuation only', () => {
    const punctuation = createRedactor(['!@#$%^&*()']);
    expect(punctuation(`x=${encodeURIComponent('!@#$%^&*()')} ${html('!@#$%^&*()', '&#39;')}`)).toBe('x=*** ***');
  });
});

import { describe, expect, it } from 'vitest';
import { createRedactor, redactDeep } from '../../../action/output/redact.ts';

describe('createRedactor', () => {
  it('replaces every occurrence of every secret', () => {
    const redact = createRedactor(['s3cr3t-token', 'hunter22']);
    expect(redact('Bearer s3cr3t-token sent; again s3cr3t-token; password hunter22')).toBe('Bearer *** sent; again ***; password ***');
  });

  it('leaves text without secrets unchanged', () => {
    expect(createRedactor(['s3cr3t-token'])('nothing to see')).toBe('nothing to see');
  });

  it('is the identity without secrets', () => {
    expect(createRedactor([])('Bearer abc')).toBe('Bearer abc');
  });

  it('masks the longer of two overlapping secrets whole', () => {
    const redact = createRedactor(['abcd', 'abcdefgh']);
    expect(redact('x abcdefgh y abcd')).toBe('x *** y ***');
  });

  it('ignores values shorter than 4 characters, which would mangle text', () => {
    const redact = createRedactor(['', 'a', 'on', '123', 'long-enough']);
    expect(redact('a 123 on long-enough')).toBe('a 123 on ***');
  });

  it('matches secrets literally, regular-expression characters included', () => {
    const redact = createRedactor(['p.ss*(x)+$', 'a|b?']);
    expect(redact('p.ss*(x)+$ and pass(x)x and a|b? and ab')).toBe('*** and pass(x)x and *** and ab');
  });

  it('accepts any iterable and repeated values', () => {
    const redact = createRedactor(new Set(['s3cr3t', 's3cr3t']).values());
    expect(redact('s3cr3t')).toBe('***');
  });
});

// An external system's error body echoes the request: the secret comes back encoded.
describe('createRedactor: encoded spellings', () => {
  const secret = `Q"x\\y:{z}'&<w>|%2F *tail`;
  const redact = createRedactor([secret]);

  it('masks the percent-encoded forms a URL carries', () => {
    expect(redact(`GET /hook?k=${encodeURIComponent(secret)}`)).toBe('GET /hook?k=***');
    expect(redact(`GET /hook?${new URLSearchParams({ k: secret }).toString()}`)).toBe('GET /hook?k=***');
    expect(redact(`GET ${new URL(`http://x/hook?k=${secret}`).search}`)).toBe('GET ?k=***');
  });

  it('masks the JSON-escaped form, also of an echoed URL', () => {
    expect(redact(JSON.stringify({ echo: secret }))).toBe('{"echo":"***"}');
    expect(redact(JSON.stringify({ url: new URL(`http://x/hook?k=${secret}`).search }))).toBe('{"url":"?k=***"}');
  });
});

describe('redactDeep', () => {
  it('redacts every string of a report before it is serialized, so escaping cannot hide a secret', () => {
    const secret = 'quote"and\\backslash-secret';
    const report = { targets: [{ message: `failed: ${secret}`, steps: [{ message: null, progress: [secret] }] }], count: 2 };
    const safe = redactDeep(report, createRedactor([secret]));
    expect(safe).toEqual({ targets: [{ message: 'failed: ***', steps: [{ message: null, progress: ['***'] }] }], count: 2 });
    expect(JSON.stringify(safe)).not.toContain('backslash-secret');
  });
});

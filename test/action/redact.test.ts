import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../action/redact.ts';

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

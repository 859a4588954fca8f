import { describe, expect, it } from 'vitest';
import { truncateCodePoints } from '../../../action/lib/text.ts';

describe('truncateCodePoints', () => {
  it.each<[string, number, string]>([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['abcdefghijk', 10, 'abcdefghij'],
    // The emoji (two UTF-16 units) would straddle the cut: it is left out whole.
    ['abcdefghi🚀', 10, 'abcdefghi'],
    ['abcdefgh🚀x', 10, 'abcdefgh🚀'],
    ['🚀🚀🚀', 5, '🚀🚀'],
    ['', 0, ''],
  ])('%j within %d UTF-16 units → %j', (text, max, cut) => {
    const result = truncateCodePoints(text, max);
    expect(result).toBe(cut);
    expect(result.length).toBeLessThanOrEqual(max);
    expect(result.isWellFormed()).toBe(true);
  });

  it.each<[string, number, string]>([
    ['🚀🚀🚀', 2, '🚀🚀'],
    ['a🚀b', 3, 'a🚀b'],
  ])('counts code points when asked (GitHub): %j within %d → %j', (text, max, cut) => {
    expect(truncateCodePoints(text, max, { unit: 'codePoints' })).toBe(cut);
  });

  it('appends the ellipsis only when it cuts, within the limit', () => {
    expect(truncateCodePoints('abcdef', 6, { ellipsis: '…' })).toBe('abcdef');
    expect(truncateCodePoints('abcdefg', 6, { ellipsis: '…' })).toBe('abcde…');
    expect(truncateCodePoints('abcd🚀fg', 6, { ellipsis: '…' })).toBe('abcd…');
  });

  it('mends a lone surrogate another cut left, so the result is always well-formed', () => {
    const cut = '🚀🚀'.slice(0, 3);
    expect(truncateCodePoints(`${cut} ok`, 100)).toBe('🚀\uFFFD ok');
  });
});

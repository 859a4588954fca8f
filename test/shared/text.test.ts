import { describe, expect, it } from 'vitest';
import { countCodePoints, truncateCodePoints } from '../../shared/text.ts';

describe('truncateCodePoints', () => {
  it.each<[string, number, string]>([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['abcdefghijk', 10, 'abcdefghij'],
    // An emoji is one code point (two UTF-16 units): the cut never lands inside it.
    ['abcdefghi🚀x', 10, 'abcdefghi🚀'],
    ['🚀🚀🚀', 2, '🚀🚀'],
    ['a🚀b', 3, 'a🚀b'],
    ['', 0, ''],
  ])('%j within %d code points → %j', (text, max, cut) => {
    const result = truncateCodePoints(text, max);
    expect(result).toBe(cut);
    expect(countCodePoints(result)).toBeLessThanOrEqual(max);
    expect(result.isWellFormed()).toBe(true);
  });

  it('never leaves half a surrogate pair where a UTF-16 cut would', () => {
    const text = `${'x'.repeat(499)}🚀 and more`;
    expect(text.slice(0, 500).isWellFormed()).toBe(false);
    const cut = truncateCodePoints(text, 500);
    expect(cut).toBe(`${'x'.repeat(499)}🚀`);
    expect(cut.isWellFormed()).toBe(true);
  });

  it('appends the ellipsis only when it cuts, within the limit', () => {
    expect(truncateCodePoints('abcdef', 6, '…')).toBe('abcdef');
    expect(truncateCodePoints('abcdefg', 6, '…')).toBe('abcde…');
    expect(truncateCodePoints('abcd🚀fg', 6, '…')).toBe('abcd🚀…');
  });

  it('mends a lone surrogate another cut left, so the result is always well-formed', () => {
    const cut = '🚀🚀'.slice(0, 3);
    expect(truncateCodePoints(`${cut} ok`, 100)).toBe('🚀\uFFFD ok');
  });
});

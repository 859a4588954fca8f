/** Cutting text to a receiver's limit without ever splitting a character. */

/**
 * How a receiver counts length: zod's `.max()` (the relay's schemas) counts UTF-16
 * code units, GitHub's API counts code points.
 */
export type LengthUnit = 'utf16' | 'codePoints';

export interface TruncateOptions {
  /** Default `utf16`, as JavaScript and the relay count. */
  unit?: LengthUnit;
  /** Appended when the text is cut, counted within `max`. */
  ellipsis?: string;
}

/**
 * `text` cut to at most `max` units, only ever between code points: a cut inside a
 * surrogate pair leaves a lone surrogate, which the relay refuses (SPEC §3) and
 * GitHub shows as garbage. An emoji that would not fit is left out whole, and a lone
 * surrogate already in `text` (another cut's) becomes U+FFFD.
 */
export function truncateCodePoints(input: string, max: number, options: TruncateOptions = {}): string {
  const text = input.toWellFormed();
  const size = options.unit === 'codePoints' ? (): number => 1 : (point: string): number => point.length;
  const ellipsis = options.ellipsis ?? '';
  if (measure(text, size) <= max) return text;
  const room = max - measure(ellipsis, size);
  let used = 0;
  let end = 0;
  for (const point of text) {
    if (used + size(point) > room) break;
    used += size(point);
    end += point.length;
  }
  return `${text.slice(0, end)}${ellipsis}`;
}

function measure(text: string, size: (point: string) => number): number {
  let total = 0;
  for (const point of text) total += size(point);
  return total;
}

/**
 * Cutting text to a limit both sides agree on, never inside a character. The relay's
 * limits are zod `.max()` checks, which count code points, as GitHub's API does; a
 * cut by UTF-16 units could split a surrogate pair, which the relay refuses (SPEC §3).
 */

/**
 * `text` cut to at most `max` code points (the `ellipsis`, appended only when it cuts,
 * counted within them). A lone surrogate already in `text` (another cut's) becomes U+FFFD,
 * so the result is always well-formed.
 */
export function truncateCodePoints(input: string, max: number, ellipsis = ''): string {
  const text = input.toWellFormed();
  if (countCodePoints(text) <= max) return text;
  const room = Math.max(0, max - countCodePoints(ellipsis));
  let end = 0;
  let used = 0;
  for (const point of text) {
    if (used === room) break;
    used += 1;
    end += point.length;
  }
  return `${text.slice(0, end)}${ellipsis}`;
}

/** The number of code points in `text` (an emoji counts one, as zod and GitHub count). */
export function countCodePoints(text: string): number {
  return [...text].length;
}

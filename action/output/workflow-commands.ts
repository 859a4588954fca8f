/**
 * Text from outside, made inert for the runner. The runner reads a step's stdout line by line
 * (split at \n, \r and \r\n) and treats a line as a workflow command when, after trimming
 * whitespace, it starts with `::` (`::add-mask::`, `::stop-commands::`, `::error file=…::`), or
 * when it contains the legacy `##[` anywhere. A zero-width space (U+200B) after the first `:` or
 * `#` breaks both patterns and leaves the line looking the same in the log.
 */

const ZERO_WIDTH_SPACE = '\u200B';
/** The runner trims with .NET's Char.IsWhiteSpace, which also counts U+0085 (not in JavaScript's \s). */
const LEADING_COMMAND = /^([\s\u0085]*):(?=:)/;
const LINE_BREAK = /(\r\n|\r|\n)/;

/** `text` with no line the runner would take for a workflow command; line breaks kept. */
export function neutralizeCommands(text: string): string {
  return text
    .split(LINE_BREAK)
    .map((line, index) => (index % 2 === 1 ? line : neutralizeLine(line)))
    .join('');
}

function neutralizeLine(line: string): string {
  return line.replace(LEADING_COMMAND, `$1:${ZERO_WIDTH_SPACE}`).replaceAll('##[', `#${ZERO_WIDTH_SPACE}#[`);
}

/**
 * A JSON text for an output whose values came from outside: `[` after `##` is written `\u005b`,
 * so echoing the output raw prints no legacy `##[` command, and parsing it gives the same value.
 * (JSON has no line breaks outside strings and starts with `{`, so `::` cannot start a line.)
 */
export function commandSafeJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('##[', '##\\u005b');
}

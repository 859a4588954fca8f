// A monitor's statusPath is checked when the file is loaded, with the JSONPath library the monitor
// polls with, so a typo fails the validation rather than every poll of a running gate.
import { JSONPath } from 'jsonpath-plus';

const OPENERS: Readonly<Record<string, string>> = { '[': ']', '(': ')' };
const CLOSERS: ReadonlySet<string> = new Set([']', ')']);

/** Unbalanced brackets and quotes, which jsonpath-plus would read as some other path instead of failing. */
function structureProblem(path: string): string | undefined {
  const open: { char: string; at: number }[] = [];
  let quote: { char: string; at: number } | undefined;
  for (let at = 0; at < path.length; at++) {
    const char = path.charAt(at);
    if (quote !== undefined) {
      if (char === '\\') at++;
      else if (char === quote.char) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = { char, at };
    } else if (char in OPENERS) {
      open.push({ char, at });
    } else if (CLOSERS.has(char)) {
      const last = open.pop();
      if (last === undefined) return `'${char}' at offset ${at} closes nothing`;
      if (OPENERS[last.char] !== char) return `'${last.char}' at offset ${last.at} is closed by '${char}' at offset ${at}`;
    }
  }
  if (quote !== undefined) return `the quote at offset ${quote.at} is never closed`;
  const last = open.pop();
  return last === undefined ? undefined : `'${last.char}' at offset ${last.at} is never closed`;
}

/**
 * Why a JSONPath cannot be used as a statusPath (it must start at the root, `$`), or undefined when
 * it can. Filter and script expressions are compiled by jsonpath-plus's safe evaluator, as a poll would.
 */
export function statusPathProblem(path: string): string | undefined {
  if (!path.startsWith('$')) return `must start with $ (the root of the status answer), as in $.result`;
  if (/(^|[^.])\.$/.test(path)) return 'ends with a dot; name a field after it, as in $.result';
  const structure = structureProblem(path);
  if (structure !== undefined) return structure;
  for (const segment of JSONPath.toPathArray(path)) {
    if (!segment.startsWith('(') && !segment.startsWith('?(')) continue;
    try {
      // The expression is compiled before it is applied; errors of the value it meets are ignored.
      JSONPath({ path: `$[${segment}]`, json: [{}], wrap: true, eval: 'safe', ignoreEvalErrors: true });
    } catch (error) {
      return `the expression ${segment} is not valid: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return undefined;
}

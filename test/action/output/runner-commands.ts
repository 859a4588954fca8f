/**
 * How GitHub's runner finds workflow commands in a step's stdout (actions/runner
 * ActionCommandManager): lines split at \r\n, \r or \n; a line trimmed of .NET whitespace that
 * starts with `::`, or any line containing the legacy `##[`.
 */
export function runnerCommandLines(stdout: string): string[] {
  return stdout.split(/\r\n|\r|\n/).filter((line) => line.replace(/^[\s\u0085]+|[\s\u0085]+$/g, '').startsWith('::') || line.includes('##['));
}

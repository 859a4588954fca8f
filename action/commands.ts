/** Runs the file's shell commands (`bash -e`), streaming their output into a log group. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface CommandResult {
  ok: boolean;
  exitCode: number | null;
  /** The last lines of output, for the failure message. */
  tail: string[];
}

export interface CommandOptions {
  script: string;
  cwd: string;
  env: Record<string, string>;
  signal?: AbortSignal;
  onLine: (line: string) => void;
}

const TAIL_LINES = 5;

/** Runs `script` with `bash -e`; a non-zero exit is `ok: false`, never a throw. */
export function runCommand(options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-c', options.script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const tail: string[] = [];
    const collect = (line: string): void => {
      options.onLine(line);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    };
    createInterface({ input: child.stdout }).on('line', collect);
    createInterface({ input: child.stderr }).on('line', collect);
    child.on('error', (error) => {
      if (error.name !== 'AbortError') collect(`could not start bash: ${error.message}`);
      resolve({ ok: false, exitCode: null, tail });
    });
    child.on('close', (code) => resolve({ ok: code === 0, exitCode: code, tail }));
  });
}

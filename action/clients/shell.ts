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
/** After SIGTERM, how long a canceled command's processes get before SIGKILL (the runner allows ~10 s in all). */
const KILL_GRACE_MS = 3000;

/**
 * Runs `script` with `bash -e`; a non-zero exit is `ok: false`, never a throw.
 * Once `signal` aborts, the script's whole process group gets SIGTERM (then SIGKILL):
 * killing bash alone would leave its children holding the output pipes open.
 */
export function runCommand(options: CommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    if (options.signal?.aborted) {
      resolve({ ok: false, exitCode: null, tail: ['not started: the run was canceled'] });
      return;
    }
    const child = spawn('bash', ['-e', '-c', options.script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let escalation: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      killGroup('SIGTERM');
      escalation = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      escalation.unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const tail: string[] = [];
    const collect = (line: string): void => {
      options.onLine(line);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    };
    createInterface({ input: child.stdout }).on('line', collect);
    createInterface({ input: child.stderr }).on('line', collect);
    const finish = (result: CommandResult): void => {
      options.signal?.removeEventListener('abort', onAbort);
      clearTimeout(escalation);
      resolve(result);
    };
    child.on('error', (error) => {
      collect(`could not start bash: ${error.message}`);
      finish({ ok: false, exitCode: null, tail });
    });
    child.on('close', (code) => {
      if (options.signal?.aborted) collect('stopped: the run was canceled');
      finish({ ok: code === 0 && !options.signal?.aborted, exitCode: code, tail });
    });
  });
}

/**
 * Runs the built action the way the GitHub runner does: `node dist/index.js`
 * with INPUT_* variables (hyphens kept) and the GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY and GITHUB_STATE files.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './local-relay.ts';

export interface ActionRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** What the main step saved for the post step (GITHUB_STATE). */
  state: Record<string, string>;
}

export interface ActionProcess {
  /** Everything printed so far. */
  readonly stdout: () => string;
  /** Resolves when a line matching `pattern` has been printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal to the step, as the runner does when a job is canceled. */
  signal(signal: NodeJS.Signals): void;
  done: Promise<ActionRun>;
}

export interface ActionOptions {
  /** Inputs by their action.yml names, e.g. `{ 'relay-url': … }`. */
  inputs: Record<string, string>;
  /** The workspace (GITHUB_WORKSPACE): the deployment file and commands live here. */
  workspace: string;
  env?: Record<string, string>;
  entry?: 'index' | 'post';
  /** For the post step: the main step's saved state. */
  state?: Record<string, string>;
  /** Called with each line the action prints, as it prints it. */
  onLine?: (line: string) => void;
}

/** Starts the action; see ActionProcess. */
export async function startAction(options: ActionOptions): Promise<ActionProcess> {
  const files = await mkdtemp(join(tmpdir(), 'hookgate-runner-'));
  const outputFile = join(files, 'output');
  const summaryFile = join(files, 'summary');
  const stateFile = join(files, 'state');
  await Promise.all([writeFile(outputFile, ''), writeFile(summaryFile, ''), writeFile(stateFile, '')]);

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? files,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_REPOSITORY: 'acme/potato-facts',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: String(Date.now()) + String(Math.floor(Math.random() * 1000)),
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
    RUNNER_TEMP: files,
    ...options.env,
  };
  // The runner keeps hyphens and upper-cases: relay-url → INPUT_RELAY-URL.
  for (const [name, value] of Object.entries(options.inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;

  const child = spawn(process.execPath, [join(ROOT, 'dist', `${options.entry ?? 'index'}.js`)], {
    cwd: options.workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (options.onLine) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    }
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  const done = new Promise<ActionRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      void (async () => {
        const run: ActionRun = {
          exitCode: code,
          stdout,
          stderr,
          outputs: parseFileCommand(await readFile(outputFile, 'utf8')),
          summary: await readFile(summaryFile, 'utf8'),
          state: parseFileCommand(await readFile(stateFile, 'utf8')),
        };
        // The runner's file commands are read: leave no temp dir behind.
        await rm(files, { recursive: true, force: true });
        resolve(run);
      })().catch(reject);
    });
  });

  return {
    stdout: () => stdout,
    signal: (signal) => child.kill(signal),
    done,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stdout);
          if (match) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(match[0]);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; output so far:\n${stdout}`));
        }, timeoutMs);
        listeners.add(check);
        check();
        void done.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`the action ended without printing ${pattern}; output:\n${stdout}`));
          }
        });
      });
    },
  };
}

/** Runs the action to its end. */
export async function runAction(options: ActionOptions): Promise<ActionRun> {
  return (await startAction(options)).done;
}

/** Parses the `name<<DELIMITER … DELIMITER` format @actions/core writes to GITHUB_OUTPUT and GITHUB_STATE. */
export function parseFileCommand(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '');
    if (header?.[1] && header[2]) {
      const end = lines.indexOf(header[2], i + 1);
      result[header[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else {
      const simple = /^([^=]+)=(.*)$/.exec(lines[i] ?? '');
      if (simple?.[1]) result[simple[1]] = simple[2] ?? '';
    }
  }
  return result;
}

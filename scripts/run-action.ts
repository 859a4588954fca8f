/**
 * Runs the built action the way the GitHub runner does: `node dist/index.js`
 * with INPUT_* variables (hyphens kept), the GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
 * GITHUB_STATE files, and the run's event (a push, or a `workflow_dispatch` with inputs).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './local-relay.ts';
import { createStepFiles } from './runner-files.ts';
import type { RunnerEvent } from './runner-files.ts';
import { collectOutput } from './step-output.ts';

export { PUSH_EVENT, parseFileCommand, workflowDispatchEvent } from './runner-files.ts';
export type { RunnerEvent } from './runner-files.ts';

/** The workflow file every test run is of (GITHUB_WORKFLOW_REF), the one a resume dispatches. */
export const WORKFLOW_FILE = '.github/workflows/deploy.yml';

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

/**
 * What the runner fixes once per workflow run attempt: every step of a job (main, post, several
 * hookgate steps in gate mode), and every job of the run, sees the same GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT.
 */
export interface RunnerJob {
  runId: string;
  runAttempt: string;
}

let jobs = 0;

/** A job of a new workflow run: a run id no other job of this process has, attempt 1. */
export function newJob(): RunnerJob {
  jobs += 1;
  // Numeric like GitHub's and below 2^53; the counter keeps this process's jobs of one millisecond
  // apart, the random digits other processes'.
  const suffix = Math.floor(Math.random() * 100) * 10 + (jobs % 10);
  return { runId: `${Date.now()}${String(suffix).padStart(3, '0')}`, runAttempt: '1' };
}

/** The run GitHub started for a workflow dispatch, by the run id GitHub gave it (attempt 1). */
export function dispatchedJob(runId: string): RunnerJob {
  return { runId, runAttempt: '1' };
}

/** The same run attempted again (a re-run): the same run id, the next attempt. */
export function rerunOf(job: RunnerJob): RunnerJob {
  return { runId: job.runId, runAttempt: String(Number(job.runAttempt) + 1) };
}

export interface ActionOptions {
  /** Inputs by their action.yml names, e.g. `{ 'relay-url': … }`. */
  inputs: Record<string, string>;
  /** The workspace (GITHUB_WORKSPACE): the deployment file and commands live here. */
  workspace: string;
  /** The job this step is part of; without it, the step is the only step of a job of a new run. */
  job?: RunnerJob;
  env?: Record<string, string>;
  /** The event that started the run; a push to main by default. */
  event?: RunnerEvent;
  entry?: 'index' | 'post';
  /** For the post step: the main step's saved state. */
  state?: Record<string, string>;
  /** Called with each line the action prints, as it prints it. */
  onLine?: (line: string) => void;
}

/** The step's environment as the runner sets it, `options.env` over it. */
function stepEnv(options: ActionOptions, files: Record<string, string>): Record<string, string> {
  const job = options.job ?? newJob();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? files.RUNNER_TEMP ?? '',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_REPOSITORY: 'acme/potato-facts',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: job.runId,
    GITHUB_RUN_ATTEMPT: job.runAttempt,
    GITHUB_WORKFLOW_REF: `acme/potato-facts/${WORKFLOW_FILE}@refs/heads/main`,
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_ENVIRONMENT: 'github-hosted',
    ...files,
    ...options.env,
  };
  // The runner keeps hyphens and upper-cases: relay-url → INPUT_RELAY-URL.
  for (const [name, value] of Object.entries(options.inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  for (const [name, value] of Object.entries(options.state ?? {})) env[`STATE_${name}`] = value;
  return env;
}

/** Starts the action; see ActionProcess. */
export async function startAction(options: ActionOptions): Promise<ActionProcess> {
  const files = await createStepFiles(options.event);
  const child = spawn(process.execPath, [join(ROOT, 'dist', `${options.entry ?? 'index'}.js`)], {
    cwd: options.workspace,
    env: stepEnv(options, files.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = collectOutput(child.stdout, options.onLine);
  const stderr = collectOutput(child.stderr);
  const done = new Promise<ActionRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      files
        .collect()
        .then((written) => resolve({ exitCode: code, stdout: stdout.text(), stderr: stderr.text(), ...written }))
        .catch(reject);
    });
  });
  return {
    stdout: () => stdout.text(),
    signal: (signal) => child.kill(signal),
    done,
    waitForOutput: (pattern, timeoutMs = 60_000) => stdout.waitFor(pattern, timeoutMs, done),
  };
}

/** Runs the action to its end. */
export async function runAction(options: ActionOptions): Promise<ActionRun> {
  return (await startAction(options)).done;
}

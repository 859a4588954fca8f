/**
 * The runner's files of one step: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_STATE are files
 * the step appends to and the runner reads when the step ends; GITHUB_EVENT_PATH holds the
 * event that started the run (its webhook payload).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The event that started the workflow run: GITHUB_EVENT_NAME and the payload in GITHUB_EVENT_PATH. */
export interface RunnerEvent {
  name: string;
  payload: Record<string, unknown>;
}

/** A push to main, the event of a run no test chose. */
export const PUSH_EVENT: RunnerEvent = {
  name: 'push',
  payload: { ref: 'refs/heads/main', after: '0123456789abcdef0123456789abcdef01234567', repository: { full_name: 'acme/potato-facts' } },
};

/** A `workflow_dispatch` of the workflow with these inputs (`gh workflow run -f name=value`, or the relay's resume). */
export function workflowDispatchEvent(inputs: Record<string, string>): RunnerEvent {
  return { name: 'workflow_dispatch', payload: { inputs, ref: 'refs/heads/main', repository: { full_name: 'acme/potato-facts' } } };
}

export interface StepFiles {
  /** The step's temp dir (RUNNER_TEMP), holding the files. */
  dir: string;
  /** The variables that name the files, for the step's environment. */
  env: { GITHUB_OUTPUT: string; GITHUB_STEP_SUMMARY: string; GITHUB_STATE: string; RUNNER_TEMP: string; GITHUB_EVENT_NAME: string; GITHUB_EVENT_PATH: string };
  /** Reads what the step wrote, then removes the files, as the runner consumes them. */
  collect(): Promise<{ outputs: Record<string, string>; summary: string; state: Record<string, string> }>;
}

/** Creates the empty files for one step, and the event file of `event`. */
export async function createStepFiles(event: RunnerEvent = PUSH_EVENT): Promise<StepFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'hookgate-runner-'));
  const env = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state'),
    RUNNER_TEMP: dir,
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
  };
  await Promise.all([
    writeFile(env.GITHUB_OUTPUT, ''),
    writeFile(env.GITHUB_STEP_SUMMARY, ''),
    writeFile(env.GITHUB_STATE, ''),
    writeFile(env.GITHUB_EVENT_PATH, JSON.stringify(event.payload)),
  ]);
  return {
    dir,
    env,
    async collect() {
      const [output, summary, state] = await Promise.all([
        readFile(env.GITHUB_OUTPUT, 'utf8'),
        readFile(env.GITHUB_STEP_SUMMARY, 'utf8'),
        readFile(env.GITHUB_STATE, 'utf8'),
      ]);
      // The runner's file commands are read: leave no temp dir behind.
      await rm(dir, { recursive: true, force: true });
      return { outputs: parseFileCommand(output), summary, state: parseFileCommand(state) };
    },
  };
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

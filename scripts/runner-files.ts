/**
 * The runner's file commands of one step: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_STATE
 * are files the step appends to and the runner reads when the step ends.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StepFiles {
  /** The step's temp dir (RUNNER_TEMP), holding the files. */
  dir: string;
  /** The variables that name the files, for the step's environment. */
  env: { GITHUB_OUTPUT: string; GITHUB_STEP_SUMMARY: string; GITHUB_STATE: string; RUNNER_TEMP: string };
  /** Reads what the step wrote, then removes the files, as the runner consumes them. */
  collect(): Promise<{ outputs: Record<string, string>; summary: string; state: Record<string, string> }>;
}

/** Creates the empty files for one step. */
export async function createStepFiles(): Promise<StepFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'hookgate-runner-'));
  const env = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: join(dir, 'summary'), GITHUB_STATE: join(dir, 'state'), RUNNER_TEMP: dir };
  await Promise.all([writeFile(env.GITHUB_OUTPUT, ''), writeFile(env.GITHUB_STEP_SUMMARY, ''), writeFile(env.GITHUB_STATE, '')]);
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

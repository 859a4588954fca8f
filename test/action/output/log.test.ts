import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coreLog } from '../../../action/output/log.ts';
import { createRedactor } from '../../../action/output/redact.ts';
import { parseFileCommand } from '../../../scripts/run-action.ts';
import { runnerCommandLines } from './runner-commands.ts';

/** An approval comment, a progress report, an error body: a command on every line the runner would read. */
const FROM_OUTSIDE = 'looks fine\n::add-mask::hunter2\r::stop-commands::x\r\n  ::error file=a.yml::pwned ##[set-output name=y;]z';

let stdout: string;
beforeEach(() => {
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('coreLog', () => {
  const log = coreLog(createRedactor(['s3cr3t-value']));

  it('writes text from outside as plain lines: no workflow command reaches the runner', () => {
    log.info(`[staging] Progress from Run-Tests: ${FROM_OUTSIDE}`);
    expect(stdout).toContain('looks fine');
    expect(runnerCommandLines(stdout)).toEqual([]);
  });

  it('lets an annotation or a group title start no command line but its own', () => {
    log.warning(FROM_OUTSIDE, { title: 'webhook failed' });
    log.error(FROM_OUTSIDE);
    log.notice(FROM_OUTSIDE);
    log.startGroup(FROM_OUTSIDE);
    log.endGroup();
    expect(runnerCommandLines(stdout).map((line) => /^::([a-z]+)/.exec(line)?.[1])).toEqual(['warning', 'error', 'notice', 'group', 'endgroup']);
  });

  // The user's own commands are trusted like a `run:` step: their ::add-mask:: must work.
  it('passes the user command output through as written, redacted', () => {
    log.commandOutput('::add-mask::generated-password');
    log.commandOutput('token s3cr3t-value');
    expect(stdout.split(/\r?\n/)).toEqual(['::add-mask::generated-password', 'token ***', '']);
  });

  it('redacts before neutralizing, so the escape cannot split a secret', () => {
    const redacting = coreLog(createRedactor(['::add-mask::s3cr3t']));
    redacting.info('::add-mask::s3cr3t');
    expect(stdout).toBe(`***\n`);
  });
});

describe('outputs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookgate-output-'));
    writeFileSync(join(dir, 'output'), '');
    vi.stubEnv('GITHUB_OUTPUT', join(dir, 'output'));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  // core writes `name<<ghadelimiter_<random UUID>`: a value cannot guess the delimiter to end early.
  it('a value with line breaks and a fake delimiter stays one output', () => {
    const value = 'x\nghadelimiter_00000000-0000-0000-0000-000000000000\nresult=succeeded\nother<<EOF\ny\nEOF';
    core.setOutput('report', value);
    core.setOutput('result', 'failed');
    expect(parseFileCommand(readFileSync(join(dir, 'output'), 'utf8'))).toEqual({ report: value, result: 'failed' });
  });
});

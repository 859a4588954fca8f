import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../action/clients/shell.ts';
import type { CommandOptions } from '../../../action/clients/shell.ts';

const workspace = mkdtempSync(join(tmpdir(), 'hookgate-commands-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

async function run(script: string, fields: Partial<CommandOptions> = {}) {
  const lines: string[] = [];
  const result = await runCommand({ script, cwd: workspace, env: {}, onLine: (line) => lines.push(line), ...fields });
  return { ...result, lines };
}

describe('runCommand', () => {
  it('succeeds on exit 0 and passes on each output line, stdout and stderr', async () => {
    const result = await run('echo one; echo two >&2; printf "no newline"');
    expect(result.ok).toBe(true);
    expect(result.exitCode).toBe(0);
    expect([...result.lines].sort()).toEqual(['no newline', 'one', 'two']);
  });

  it('fails on a non-zero exit, with its code', async () => {
    const result = await run('echo about to fail; exit 3');
    expect(result).toMatchObject({ ok: false, exitCode: 3, tail: ['about to fail'] });
  });

  it('runs with bash -e: the first failing command stops the script', async () => {
    const result = await run('echo before; false; echo after');
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(1);
    expect(result.lines).toEqual(['before']);
  });

  it('runs bash, not sh', async () => {
    const result = await run('[[ -n "$BASH_VERSION" ]] && echo bash');
    expect(result.lines).toEqual(['bash']);
  });

  it('adds the given environment to the inherited one', async () => {
    const result = await run('echo "$HOOKGATE_TARGET $HOOKGATE_WEIGHT ${PATH:+has-path}"', {
      env: { HOOKGATE_TARGET: 'staging', HOOKGATE_WEIGHT: '25' },
    });
    expect(result.lines).toEqual(['staging 25 has-path']);
  });

  it('runs in the given directory', async () => {
    const result = await run('pwd -P');
    expect(result.lines).toEqual([realWorkspace()]);
  });

  it('keeps the last 5 lines for the failure message', async () => {
    const result = await run('for i in 1 2 3 4 5 6 7; do echo "line $i"; done; exit 1');
    expect(result.lines).toHaveLength(7);
    expect(result.tail).toEqual(['line 3', 'line 4', 'line 5', 'line 6', 'line 7']);
  });

  it('fails without throwing when bash cannot start', async () => {
    const result = await run('echo hi', { cwd: join(workspace, 'does-not-exist') });
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBeNull();
    expect(result.lines[0]).toMatch(/^could not start bash: /);
  });

  it('stops the command when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = run('sleep 5', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const result = await running;
    expect(result.ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("stops the script's children too, so a canceled job does not wait for them", async () => {
    const controller = new AbortController();
    const pidFile = join(workspace, 'child.pid');
    const lines: string[] = [];
    // Two commands: bash cannot exec the sleep, so the sleep is bash's child and holds the output pipe.
    const running = runCommand({
      script: `sleep 60 & echo $! > ${pidFile}; echo started; wait`,
      cwd: workspace,
      env: {},
      signal: controller.signal,
      onLine: (line) => {
        lines.push(line);
        if (line === 'started') controller.abort();
      },
    });
    const result = await running;
    expect(result.ok).toBe(false);
    expect(result.tail.at(-1)).toBe('stopped: the run was canceled');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('does not start a command once the run is canceled', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await run('echo should-not-run', { signal: controller.signal });
    expect(result).toMatchObject({ ok: false, exitCode: null });
    expect(result.lines).toEqual([]);
  });
});

/** False once the process is gone or a zombie (dead, waiting for whoever adopted it to reap it). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function realWorkspace(): string {
  // macOS and some CI images put the temp dir behind a symlink; `pwd -P` resolves it.
  return realpathSync(workspace);
}

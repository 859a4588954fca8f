/**
 * The local relay launcher (scripts/wrangler-dev.ts) against a crash of workerd alone: wrangler
 * restarts the runtime and says it is ready, but the relay would never answer again; the launcher
 * notices and starts wrangler dev again on the same port and state.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startLocalRelay } from '../../scripts/local-relay.ts';
import type { LocalRelay } from '../../scripts/local-relay.ts';
import { Started } from './started.ts';

const started = new Started();
afterAll(() => started.stopAll());

/** The pids of the workerd processes serving `port`: the relay's runtime, a grandchild of wrangler. */
async function workerdServing(port: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const [program = '', ...rest] = args.split('\0');
    if (program.endsWith('/workerd') && rest.includes(`--socket-addr=entry=127.0.0.1:${port}`)) pids.push(Number(entry));
  }
  return pids;
}

async function healthz(relay: LocalRelay): Promise<number> {
  try {
    return (await fetch(`${relay.url}/healthz`, { signal: AbortSignal.timeout(2000) })).status;
  } catch {
    return 0; // refused, or no answer: wrangler's restarted runtime hangs
  }
}

async function stagingRecord(relay: LocalRelay, runId: string): Promise<unknown> {
  const answer = await fetch(`${relay.url}/v1/runs/targets?run=${encodeURIComponent(runId)}&target=staging&wait=0`, {
    headers: { authorization: `Bearer ${relay.relayToken}` },
  });
  return answer.json();
}

describe('the local relay launcher', () => {
  it('refuses a secret wrangler would change on its way ($NAME expanded, escapes read), before starting anything', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'hookgate-secret-'));
    try {
      await expect(startLocalRelay({ stateDir, relayToken: 'abc$HOME' })).rejects.toThrow('secret RELAY_TOKEN: a value holding $ or \\ cannot be passed to wrangler dev unchanged');
      await expect(startLocalRelay({ stateDir, callbackSecret: 'a\\nb' })).rejects.toThrow('secret CALLBACK_SECRET: a value holding $ or \\');
      expect(await readdir(stateDir)).toEqual([]);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('restarts wrangler dev on the same port and state when workerd alone crashes', async () => {
    const stateDir = await started.add(
      () => mkdtemp(join(tmpdir(), 'hookgate-crash-')),
      (dir) => rm(dir, { recursive: true, force: true }),
    );
    const relay = await started.add(() => startLocalRelay({ stateDir }), (r) => r.stop());
    const runId = 'acme/potato-facts/workerd-crash';
    const recorded = await fetch(`${relay.url}/v1/runs/targets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${relay.relayToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ runId, target: 'staging', attempt: 1, status: 'succeeded' }),
    });
    expect(recorded.status).toBe(200);

    const before = await workerdServing(relay.port);
    expect(before).toHaveLength(1);
    const said = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      process.kill(before[0] ?? 0, 'SIGKILL');
      await expect.poll(() => healthz(relay), { timeout: 60_000, interval: 500 }).toBe(200);
      expect(said.mock.calls.map((call) => String(call[0]))).toContainEqual(expect.stringMatching(/no longer answers: restarting wrangler dev on the same state/));
    } finally {
      said.mockRestore();
    }
    const after = await workerdServing(relay.port);
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    expect(await stagingRecord(relay, runId)).toMatchObject({ status: 'succeeded' });
  });
});

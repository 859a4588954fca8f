/**
 * Callback edge cases through the real relay: timeouts, duplicates and
 * conflicts, an instant callback, a relay crash while the action waits, and
 * the post step of a canceled job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRelay } from '../../scripts/local-relay.ts';
import { runAction } from '../../scripts/run-action.ts';
import { COMMANDS, callbackUriOf as callbackUri, reportOf, startHarness, webhook } from './harness.ts';
import type { Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ownRelay: {} });
});
afterAll(async () => {
  await h?.close();
});

const callbackUriOf = (path: string): string => callbackUri(h.external, path);

describe('callbacks through the relay', () => {
  it('times out a gate nobody answers: the relay alarm stores timed-out and the target fails', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Silent }
webhooks:
${webhook('Silent', 'decision=none', '    timeout: { duration: 2, unit: seconds }')}
`);
    const run = await ws.run();

    expect(run.outputs.result).toBe('failed');
    const step = reportOf(run).targets[0]?.steps[0];
    expect(step).toMatchObject({ name: 'Silent', state: 'timed-out', message: 'no decision arrived before the deadline' });
    expect(ws.has('deployed-staging')).toBe(false);
    const late = await fetch(callbackUriOf('/hooks/Silent'), { method: 'POST', body: '{"success": true}' });
    expect(late.status).toBe(410);
  });

  it('keeps the first decision: a repeat gets 200, a different one 409, and the deployment follows the first', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Chatty }
webhooks:
${webhook('Chatty', 'repeat=2&conflict=1&message=first')}
`);
    const before = h.external.callbacks.length;
    const run = await ws.run();
    await h.external.waitForCallbacks(before + 3);

    expect(run.outputs.result).toBe('succeeded');
    const sent = h.external.callbacks.slice(before);
    expect(sent.map((c) => c.status)).toEqual([200, 200, 409]);
    expect(sent[2]?.answer).toMatchObject({ error: 'conflict', gate: { state: 'succeeded', message: 'first' } });
    expect(reportOf(run).targets[0]?.steps[0]).toMatchObject({ state: 'succeeded', message: 'first' });
  });

  it('shows progress reports in the log while waiting, and in the report and summary, without deciding anything', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Slow-Scan }
webhooks:
${webhook('Slow-Scan', 'decision=none')}
`);
    const action = await ws.start();
    await action.waitForOutput(/Waiting for the callback of Slow-Scan/);
    const uri = callbackUriOf('/hooks/Slow-Scan');
    const post = (body: unknown): Promise<Response> => fetch(uri, { method: 'POST', body: JSON.stringify(body) });

    for (const message of ['Scanned **40%** of images', 'Scanned **80%** of images']) {
      const answer = await post({ progress: true, mdMessage: message });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ state: 'pending' });
      await action.waitForOutput(new RegExp(`Progress from Slow-Scan: ${message.replace(/\*/g, '\\*')}`));
    }
    // Still waiting: a progress report decides nothing.
    expect(ws.has('deployed-staging')).toBe(false);
    expect((await post({ success: true, mdMessage: 'No CVEs' })).status).toBe(200);

    const run = await action.done;
    expect(run.exitCode, run.stdout).toBe(0);
    expect(reportOf(run).targets[0]?.steps[0]).toMatchObject({
      state: 'succeeded',
      message: 'No CVEs',
      progress: ['Scanned **40%** of images', 'Scanned **80%** of images'],
    });
    expect(run.summary).toContain('(progress) Scanned **40%** of images<br>(progress) Scanned **80%** of images<br>No CVEs');
  });

  it('never loses an instant callback that arrives before the webhook call returns', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Instant }
webhooks:
${webhook('Instant', 'instant=1&decision=failure&message=refused+at+once')}
`);
    const run = await ws.run();

    expect(run.outputs.result).toBe('failed');
    expect(reportOf(run).targets[0]?.steps[0]).toMatchObject({ state: 'failed', message: 'refused at once' });
    expect(h.external.callbacks.at(-1)?.status).toBe(200);
  });

  it('gets the decision after the relay process is killed and restarted on the same state while the action waits', async () => {
    const ws = await h.workspace(`
${COMMANDS}
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Long-Job }
webhooks:
${webhook('Long-Job', 'decision=none')}
`);
    const action = await ws.start();
    await action.waitForOutput(/Waiting for the callback of Long-Job/);
    const uri = callbackUriOf('/hooks/Long-Job');

    await h.relay.kill();
    // The action keeps asking while the relay is down.
    await action.waitForOutput(/relay unreachable.*asking again/);
    h.relay = await startLocalRelay({ stateDir: h.stateDir, port: h.relay.port });
    const answer = await fetch(uri, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ success: true, mdMessage: 'done after the restart' }),
    });
    expect(answer.status).toBe(200);

    const run = await action.done;
    expect(run.outputs.result, run.stdout).toBe('succeeded');
    expect(reportOf(run).targets[0]?.steps[0]).toMatchObject({ state: 'succeeded', message: 'done after the restart' });
    expect(ws.has('deployed-staging')).toBe(true);
  });

  it('cancels the pending gates in the post step when the job was canceled; late callbacks get 410', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Abandoned }
webhooks:
${webhook('Abandoned', 'decision=none')}
`);
    const job = ws.job();
    const action = await job.start();
    await action.waitForOutput(/Waiting for the callback of Abandoned/);
    const uri = callbackUriOf('/hooks/Abandoned');
    // The runner stops a canceled job's step, then runs the post step with the saved state.
    action.signal('SIGKILL');
    const main = await action.done;
    expect(main.state['finished']).toBeUndefined();

    const post = await job.post(main);
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toMatch(/canceled 1 pending gate\(s\)/);
    const late = await fetch(uri, { method: 'POST', body: '{"success": true}' });
    expect(late.status).toBe(410);
    expect(await late.json()).toMatchObject({ error: 'gone', gate: { state: 'canceled' } });
  });

  it('does nothing in the post step after a finished run', async () => {
    const post = await runAction({
      workspace: h.stateDir,
      entry: 'post',
      inputs: { 'relay-url': h.relay.url, 'relay-token': h.relay.relayToken },
      state: { 'deployment-id': 'acme/potato-facts/1', finished: 'true' },
    });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).not.toContain('canceled');
  });
});

/**
 * heartbeatTimeout end to end (SPEC §11): once the action tells the relay the webhook was called, the
 * external system must be heard at least that often. Silence fails the gate with the relay's message;
 * bare `{"progress": true}` posts keep it alive and are never shown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackUriOf, oneGate, reportOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { postCallback } from './scripted-system.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const heartbeat = (seconds: number): string => `    heartbeatTimeout: { duration: ${seconds}, unit: seconds }\n`;

describe('a webhook with heartbeatTimeout', () => {
  it('fails with the relay’s message when the system goes quiet after the call', async () => {
    const ws = await h.workspace(oneGate('Soak-Test', 'decision=none', 'beforeDeployment', heartbeat(2)));
    const run = await ws.run();

    expect(run.exitCode).toBe(1);
    const step = reportOf(run).targets[0]?.steps[0];
    expect(step?.state).toBe('failed');
    expect(step?.message).toMatch(/^the external system went quiet: nothing heard for 2 seconds \(heartbeatTimeout\)/);
    expect(run.stdout).toContain('Callback for Soak-Test: failure — the external system went quiet');
    expect(ws.has('deployed-staging')).toBe(false);
  });

  it('stays alive on bare {"progress": true} posts, which the log never shows, until the decision', async () => {
    const ws = await h.workspace(oneGate('Soak-Test', 'decision=none&run=alive', 'beforeDeployment', heartbeat(3)));
    const action = await ws.start();
    await action.waitForOutput(/Waiting for the callback of Soak-Test/);
    const uri = callbackUriOf(h.external, '/hooks/Soak-Test');
    // Six beats a second apart: twice the heartbeatTimeout in all, never more than a third of it apart.
    for (let beat = 0; beat < 6; beat++) {
      const answer = await postCallback(uri, { progress: true });
      expect(answer.status, JSON.stringify(answer.answer)).toBe(200);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect((await postCallback(uri, { success: true, mdMessage: 'soaked' })).status).toBe(200);
    const run = await action.done;

    expect(run.exitCode, run.stdout).toBe(0);
    expect(reportOf(run).targets[0]?.steps[0]).toMatchObject({ state: 'succeeded', message: 'soaked', progress: [] });
    expect(run.stdout).not.toContain('Progress from Soak-Test');
  });
});

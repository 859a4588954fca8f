/**
 * Progress past the relay's window (issue 10 §2): the relay keeps a gate's latest 50 reports, each
 * numbered (`seq`); the action tells new reports from seen ones by that number, so an external
 * system that reports 60 times sees all 60 in the log, in order. Progress has a budget of its own
 * (60 a minute), so the decision after it is still accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackUriOf, oneGate, reportOf, startHarness } from './harness.ts';
import type { Harness } from './harness.ts';
import { postCallback } from './scripted-system.ts';

/** The relay's progress budget per gate and minute (README, Limits): all of it, past the 50 kept. */
const REPORTS = 60;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const numbered = (n: number): string => `Scanned image ${String(n).padStart(2, '0')} of ${REPORTS}`;

describe('progress reports', () => {
  it('are all logged in order past the 50 the relay keeps, and never use up the decision’s budget', async () => {
    const ws = await h.workspace(oneGate('Image-Scan', 'decision=none'));
    const action = await ws.start();
    await action.waitForOutput(/Waiting for the callback of Image-Scan/);
    const uri = callbackUriOf(h.external, '/hooks/Image-Scan');

    // As fast as the system can send them, each one after the relay's answer to the one before.
    const statuses: number[] = [];
    for (let n = 1; n <= REPORTS; n++) statuses.push((await postCallback(uri, { progress: true, mdMessage: numbered(n) })).status);
    expect(statuses).toEqual(Array<number>(REPORTS).fill(200));
    // The progress budget is spent …
    const over = await postCallback(uri, { progress: true, mdMessage: 'one too many' });
    expect(over.status).toBe(429);
    expect(over.answer).toMatchObject({ error: 'rate_limited' });
    // … and the decision still gets through.
    const decision = await postCallback(uri, { success: true, mdMessage: 'No CVEs' });
    expect(decision.status, JSON.stringify(decision.answer)).toBe(200);

    const run = await action.done;
    expect(run.outputs.result, run.stdout).toBe('succeeded');
    const logged = [...run.stdout.matchAll(/Progress from Image-Scan: (.*)/g)].map((m) => m[1]);
    expect(logged).toEqual(Array.from({ length: REPORTS }, (_, i) => numbered(i + 1)));
    expect(run.stdout).not.toContain('one too many');
    // The report and summary carry the relay's window: the latest 50.
    expect(reportOf(run).targets[0]?.steps[0]?.progress).toEqual(Array.from({ length: 50 }, (_, i) => numbered(REPORTS - 49 + i)));
  });
});

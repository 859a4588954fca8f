/**
 * Resuming on GitHub Enterprise Server 3.19, whose dispatch endpoint has no `return_run_details`:
 * GitHub refuses the first request naming it, and the relay sends the dispatch again at once
 * without it; the resume works, with no run details to show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESUME_INPUT } from '../../shared/park.ts';
import { callbackUriOf, reportOf } from './harness.ts';
import { TICKET_FILE, linesOf, pushedRun, startParkWorld } from './park-harness.ts';
import type { ParkWorld } from './park-harness.ts';
import { postCallback } from './scripted-system.ts';
import { Started } from './started.ts';

const started = new Started();
let w: ParkWorld;
beforeAll(async () => {
  w = await started.add(() => startParkWorld({ ghes: true }), (world) => world.close());
});
afterAll(() => started.stopAll());

describe('park and resume on GHES 3.19', () => {
  it('dispatches again without return_run_details when GitHub refuses it, and the run resumes', async () => {
    const ws = await w.h.workspace(TICKET_FILE);
    const { runner, deploymentId } = pushedRun();
    const first = await (await w.start(ws, runner)).done;
    expect(first.outputs.result, first.stdout).toBe('parked');
    const resumed = w.resumeOn(ws, deploymentId);
    expect((await postCallback(callbackUriOf(w.h.external, '/hooks/Ticket'), { success: true })).status).toBe(200);
    const { dispatch, runs } = await resumed;
    expect(dispatch).toMatchObject({ returnRunDetails: false, inputs: { [RESUME_INPUT]: deploymentId } });
    expect(runs[0]?.exitCode, runs[0]?.stdout).toBe(0);
    expect(reportOf(runs[0]!).targets.map((t) => t.outcome)).toEqual(['succeeded']);
    expect(await linesOf(ws, 'deploys')).toEqual(['staging']);

    const tries = w.github.requests.filter((r) => r.path.endsWith('/dispatches'));
    expect(tries.map((r) => [r.status, (r.body as { return_run_details?: boolean }).return_run_details ?? null])).toEqual([
      [422, true],
      [204, null],
    ]);
    expect(tries[0]?.refusal).toContain('return_run_details');
    expect((await w.runView(deploymentId)).dispatch).toMatchObject({ state: 'sent', runId: null, tries: expect.any(Number) });
  });
});

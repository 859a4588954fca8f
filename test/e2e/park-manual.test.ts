/**
 * Parking without a GitHub App at the relay: the job still parks and frees its runner, the summary
 * says how to resume by hand, the relay says the App is not configured, and a resume by hand
 * (`gh workflow run … -f hookgate-resume=<id>`) continues the deployment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Health, RESUME_INPUT } from '../../shared/park.ts';
import { dispatchedJob, workflowDispatchEvent } from '../../scripts/run-action.ts';
import { callbackUriOf, reportOf } from './harness.ts';
import { TICKET_FILE, linesOf, pushedRun, startParkWorld } from './park-harness.ts';
import type { ParkWorld } from './park-harness.ts';
import { postCallback } from './scripted-system.ts';
import { Started } from './started.ts';

const started = new Started();
let w: ParkWorld;
beforeAll(async () => {
  w = await started.add(() => startParkWorld({ noApp: true }), (world) => world.close());
});
afterAll(() => started.stopAll());

describe('parking without a GitHub App', () => {
  it('healthz says the App is not configured', async () => {
    const answer = await fetch(`${w.h.relay.url}/healthz`);
    expect(answer.status).toBe(200);
    expect(Health.parse(await answer.json())).toMatchObject({ githubApp: 'not configured' });
  });

  it('parks, the summary says how to resume by hand, and the resume by hand continues', async () => {
    const ws = await w.h.workspace(TICKET_FILE);
    const { runner, deploymentId } = pushedRun();
    const first = await (await w.start(ws, runner)).done;
    expect(first.exitCode, first.stdout).toBe(0);
    expect(first.outputs.result).toBe('parked');
    // The file as `gh` takes it: its name or its path.
    expect(first.summary).toMatch(new RegExp(`gh workflow run (?:\\.github/workflows/)?deploy\\.yml --ref main -f ${RESUME_INPUT}=${deploymentId.replaceAll('/', '\\/')}`));
    expect((await postCallback(callbackUriOf(w.h.external, '/hooks/Ticket'), { success: true })).status).toBe(200);
    await expect.poll(async () => (await w.runView(deploymentId)).dispatch?.state).toBe('manual');
    expect(w.github.requests).toEqual([]);

    const run = await (await w.start(ws, dispatchedJob('4242'), {}, { event: workflowDispatchEvent({ [RESUME_INPUT]: deploymentId }) })).done;
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(reportOf(run).targets.map((t) => t.outcome)).toEqual(['succeeded']);
    expect(await linesOf(ws, 'deploys')).toEqual(['staging']);
    expect(w.h.external.webhooks.filter((c) => c.path === '/hooks/Ticket')).toHaveLength(1);
  });
});

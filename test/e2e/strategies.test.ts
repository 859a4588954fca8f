/** Blue/green through the real relay: lists in parallel, then the traffic switch, then the shutdown. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportOf, startHarness, webhook } from './harness.ts';
import type { Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Every command appends its name to `story`, so the order is on disk. */
const STORY_COMMANDS = `
commands:
  deploy: echo deploy >> story
  redirectTraffic: echo redirectTraffic >> story
  shutDownOldVersion: echo shutDownOldVersion >> story
  rollback: echo rollback >> story
`;

const blueGreen = (redirectAfter: string, shutDownAfter: string, spelling = 'shutDownOldVersionAfter'): string => `
${STORY_COMMANDS}
targets:
  prod:
    strategy: bg
strategies:
  bg:
    blueGreen:
      activeService: potato-facts-active
      previewService: potato-facts-preview
      redirectTrafficAfter:
        - runWebhook: { name: Preview-Check }
        - runWebhook: { name: Preview-Load }
      ${spelling}:
        - runWebhook: { name: Old-Drain }
webhooks:
${webhook('Preview-Check', redirectAfter)}
${webhook('Preview-Load', 'delayMs=800')}
${webhook('Old-Drain', shutDownAfter)}
`;

describe('blue/green', () => {
  it('runs redirectTrafficAfter in parallel, switches traffic, then shutDownOldVersionAfter and the shutdown', async () => {
    const ws = await h.workspace(blueGreen('delayMs=800', 'message=drained', 'shutdownOldVersionAfter'));
    const run = await ws.run();
    expect(run.exitCode, run.stdout).toBe(0);
    expect((await ws.read('story')).trim().split('\n')).toEqual(['deploy', 'redirectTraffic', 'shutDownOldVersion']);
    const steps = reportOf(run).targets[0]?.steps ?? [];
    const check = steps.find((s) => s.name === 'Preview-Check');
    const load = steps.find((s) => s.name === 'Preview-Load');
    // In parallel: each of the two started before the other ended.
    expect(Date.parse(check?.start ?? '')).toBeLessThan(Date.parse(load?.end ?? ''));
    expect(Date.parse(load?.start ?? '')).toBeLessThan(Date.parse(check?.end ?? ''));
    const redirect = steps.find((s) => s.name === 'redirectTraffic');
    expect(Date.parse(redirect?.start ?? '')).toBeGreaterThanOrEqual(Date.parse(check?.end ?? ''));
  });

  it('rolls back a failure before the traffic switch, without switching', async () => {
    const ws = await h.workspace(blueGreen('decision=failure&message=preview+returns+500s', 'message=drained'));
    const run = await ws.run();
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe('rolled-back');
    expect((await ws.read('story')).trim().split('\n')).toEqual(['deploy', 'rollback']);
    expect(reportOf(run).targets[0]?.message).toBe(
      'prod rolled back: strategy webhook Preview-Check failed: preview returns 500s',
    );
    // The sibling still waiting was stopped at once.
    expect(reportOf(run).targets[0]?.steps.find((s) => s.name === 'Preview-Load')?.state).toBe('canceled');
  });
});

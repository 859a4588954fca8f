/**
 * Gate mode as a real job runs it: the hookgate steps of one job (and the post step the runner
 * adds for each) share the job's run id, so the default deployment id `<repository>/<run id>`
 * ties them together at the relay and on GitHub, with no `deployment-id` input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetRecord } from '../../shared/protocol.ts';
import { startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub } from '../support/github-api.ts';
import { COMMANDS, startHarness, webhook } from './harness.ts';
import type { Harness } from './harness.ts';
import { Started } from './started.ts';

const GITHUB_TOKEN = 'ghs_e2eGateModeToken0123456789';

let h: Harness;
let github: FakeGitHub;
const started = new Started();
beforeAll(async () => {
  h = await started.add(startHarness, (harness) => harness.close());
  github = await started.add(() => startFakeGitHub(GITHUB_TOKEN), (fake) => fake.close());
});
afterAll(() => started.stopAll());

const githubEnv = (): Record<string, string> => ({ GITHUB_API_URL: github.url });

async function targetRecord(runId: string, target: string): Promise<TargetRecord> {
  const answer = await fetch(`${h.relay.url}/v1/runs/targets?run=${encodeURIComponent(runId)}&target=${target}`, {
    headers: { authorization: `Bearer ${h.relay.relayToken}` },
  });
  return TargetRecord.parse(await answer.json());
}

describe('gate mode: several hookgate steps in one job', () => {
  it('share the job’s run id: the default deployment id finds the first step’s state, and GitHub links one run', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Schema }
      afterDeployment:
        - runWebhook: { name: Smoke }
  prod:
    constraints: { dependsOn: [staging] }
${COMMANDS}
webhooks:
${webhook('Schema', 'message=migrated')}
${webhook('Smoke', 'message=smoke+ok')}
`);
    const before = github.deployments.length;
    // No deployment-id input anywhere: the default, <repository>/<run id>, ties the steps and jobs together.
    const staging = ws.job();
    const inputs = (phase: string): Record<string, string> => ({ target: 'staging', phase, 'github-token': GITHUB_TOKEN });
    const prod = await ws.job(staging.runner).start({ target: 'prod' });
    const gateBefore = await staging.run(inputs('beforeDeployment'), githubEnv());
    expect(gateBefore.outputs.result, gateBefore.stdout).toBe('succeeded');
    const gateAfter = await staging.run(inputs('afterDeployment'), githubEnv());
    expect(gateAfter.outputs.result, gateAfter.stdout).toBe('succeeded');

    const deploymentId = `acme/potato-facts/${staging.runner.runId}`;
    expect([gateBefore.outputs['deployment-id'], gateAfter.outputs['deployment-id']]).toEqual([deploymentId, deploymentId]);
    // One run at the relay: the second step finished the target the first started, and prod (another job of the run) followed.
    expect((await targetRecord(deploymentId, 'staging')).status).toBe('succeeded');
    const prodRun = await prod.done;
    expect(prodRun.outputs.result, prodRun.stdout).toBe('succeeded');

    // One GitHub deployment for staging, started by the first step and finished by the second, every status linked to the one run.
    const mine = github.deployments.slice(before).filter((d) => d.environment === 'staging');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.payload).toMatchObject({ hookgate: { deploymentId, attempt: 1 } });
    expect(mine[0]?.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    const runUrl = `https://github.com/acme/potato-facts/actions/runs/${staging.runner.runId}/attempts/1`;
    expect(new Set(mine[0]?.statuses.map((s) => s.logUrl))).toEqual(new Set([runUrl]));
    expect(github.refusals()).toEqual([]);
  });

  it('a lone beforeDeployment step and its post step leave a green job’s target succeeded, on GitHub too', async () => {
    const ws = await h.workspace(`
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Change-Ticket }
  prod:
    constraints: { dependsOn: [staging] }
${COMMANDS}
webhooks:
${webhook('Change-Ticket', 'message=approved')}
`);
    const before = github.deployments.length;
    const staging = ws.job();
    const prod = await ws.job(staging.runner).start({ target: 'prod' });
    const inputs = { target: 'staging', phase: 'beforeDeployment', 'github-token': GITHUB_TOKEN };
    const gate = await staging.run(inputs, githubEnv());
    expect(gate.outputs.result, gate.stdout).toBe('succeeded');
    // The user's own deploy steps ran green; the job ends with the post step of the hookgate step.
    const post = await staging.post(gate, inputs, githubEnv());
    expect(post.exitCode, post.stdout).toBe(0);

    const deploymentId = `acme/potato-facts/${staging.runner.runId}`;
    expect((await targetRecord(deploymentId, 'staging')).status).toBe('succeeded');
    const prodRun = await prod.done;
    expect(prodRun.outputs.result, prodRun.stdout).toBe('succeeded');
    const mine = github.deployments.slice(before).filter((d) => d.environment === 'staging');
    expect(mine.map((d) => d.statuses.map((s) => s.state))).toEqual([['in_progress', 'success']]);
    expect(github.refusals()).toEqual([]);
  });
});

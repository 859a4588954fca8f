/**
 * Engine overhead: a deployment of 50 canary `runWebhook` steps whose external
 * system answers at once (the callback is sent before the webhook call is even
 * answered), run as the runner runs it (`node dist/index.js`), against the
 * real local relay. Total time / 50, and the same with the 1-step file's time
 * (process start, plan, summary) taken off.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExternalSystem } from '../scripts/external-system.ts';
import { runAction } from '../scripts/run-action.ts';
import type { RelayTarget } from './relay-gates.ts';
import { median } from './stats.ts';

export interface EngineOverhead {
  steps: number;
  runs: number;
  /** Median wall time of the 50-step deployment, spawn to exit. */
  totalMs: number;
  /** Median wall time of the same deployment with 1 step. */
  oneStepMs: number;
  perStepMs: number;
  /** (total − one step) / (steps − 1): what each further step costs. */
  marginalPerStepMs: number;
  /** Median of the steps' own durations from the action's report (start → end, whole ms). */
  reportedStepMs: number;
}

function deploymentFile(steps: number, externalUrl: string): string {
  const canary = Array.from({ length: steps }, () => '        - runWebhook: { name: Instant-Check }').join('\n');
  return `version: v1
application: engine-overhead
targets:
  prod:
    strategy: fifty-checks
strategies:
  fifty-checks:
    canary:
      steps:
${canary}
webhooks:
  - name: Instant-Check
    uriTemplate: "${externalUrl}/hooks/check?instant=1&message=ok"
    bodyTemplate:
      inline: '{"callbackUri": "{{armory.callbackUri}}/callback"}'
`;
}

interface Report {
  targets: { outcome: string; steps: { kind: string; state: string; start: string; end: string }[] }[];
}

async function timedRun(dir: string, relay: RelayTarget): Promise<{ ms: number; stepMs: number[] }> {
  const started = performance.now();
  const run = await runAction({ workspace: dir, inputs: { config: 'deploy.yml', 'relay-url': relay.url, 'relay-token': relay.token } });
  const ms = performance.now() - started;
  const report = JSON.parse(run.outputs.report ?? 'null') as Report | null;
  const target = report?.targets[0];
  if (run.exitCode !== 0 || target?.outcome !== 'succeeded') {
    throw new Error(`the deployment did not succeed (exit ${run.exitCode}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  }
  const webhooks = target.steps.filter((s) => s.kind === 'webhook' && s.state === 'succeeded');
  const stepMs = webhooks.map((s) => Date.parse(s.end) - Date.parse(s.start));
  return { ms, stepMs };
}

export async function measureEngineOverhead(relay: RelayTarget, steps = 50, runs = 3): Promise<EngineOverhead> {
  const external = await startExternalSystem();
  const dirs: string[] = [];
  try {
    const workspace = async (count: number): Promise<string> => {
      const dir = await mkdtemp(join(tmpdir(), 'hookgate-bench-engine-'));
      dirs.push(dir);
      await writeFile(join(dir, 'deploy.yml'), deploymentFile(count, external.url));
      return dir;
    };
    const many = await workspace(steps);
    const one = await workspace(1);
    await timedRun(one, relay); // warm-up, unmeasured
    const totals: number[] = [];
    const singles: number[] = [];
    const stepMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const run = await timedRun(many, relay);
      totals.push(run.ms);
      stepMs.push(...run.stepMs);
      singles.push((await timedRun(one, relay)).ms);
    }
    const totalMs = median(totals);
    const oneStepMs = median(singles);
    return {
      steps,
      runs,
      totalMs,
      oneStepMs,
      perStepMs: totalMs / steps,
      marginalPerStepMs: (totalMs - oneStepMs) / (steps - 1),
      reportedStepMs: median(stepMs),
    };
  } finally {
    await external.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

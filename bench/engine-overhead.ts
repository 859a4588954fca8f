/**
 * Engine overhead: a deployment of 50 canary `runWebhook` steps whose external
 * system answers at once (the callback is sent before the webhook call is even
 * answered), run as the runner runs it (`node dist/index.js`), against the
 * real local relay. Total time / 50, and the same with the 1-step file's time
 * (process start, plan, summary) taken off.
 *
 * The action reaches the relay and the external system through a loopback proxy
 * (bench/timing-proxy.ts) that records each request: relay requests per step by
 * route, and the step's time split into waiting on relay requests, waiting on the
 * webhook call alone, and the rest, the action's own work.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExternalSystem } from '../scripts/external-system.ts';
import { runAction } from '../scripts/run-action.ts';
import type { RelayTarget } from './relay-gates.ts';
import { median } from './stats.ts';
import { EXTERNAL_PREFIX, coveredMs, startTimingProxy } from './timing-proxy.ts';
import type { ProxiedRequest } from './timing-proxy.ts';

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
  /** What each further step costs, split (medians of (50-step − 1-step) ÷ 49); absent from runs before issue 14. */
  split?: StepSplit;
}

export interface StepSplit {
  /** Relay requests per further step, all routes (callbacks included). */
  relayRequests: number;
  /** The same by route, e.g. `POST /v1/gates`. */
  byRoute: { route: string; perStep: number }[];
  /** Per step, within the steps window (first registration → last relay request): time with a relay request open. */
  relayMs: number;
  /** Time waiting on the webhook call alone (no relay request open). */
  webhookMs: number;
  /** The rest: the action's own work between requests (and Node's, e.g. connection set-up). */
  ownMs: number;
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
    uriTemplate: "${externalUrl}${EXTERNAL_PREFIX}/hooks/check?instant=1&message=ok"
    bodyTemplate:
      inline: '{"callbackUri": "{{armory.callbackUri}}/callback"}'
`;
}

interface Report {
  targets: { outcome: string; steps: { kind: string; state: string; start: string; end: string }[] }[];
}

interface TimedRun {
  ms: number;
  stepMs: number[];
  /** Requests the proxy carried during the run. */
  requests: ProxiedRequest[];
  /** From the first step's registration to the last relay request's end: the steps, without start-up and summary. */
  stepsWindowMs: number;
  /** Within that window: time with a relay request open, and with any request (relay or webhook call) open. */
  relayMs: number;
  ioMs: number;
}

async function timedRun(dir: string, relay: RelayTarget, proxied: ProxiedRequest[]): Promise<TimedRun> {
  const before = proxied.length;
  const started = performance.now();
  const run = await runAction({ workspace: dir, inputs: { config: 'deploy.yml', 'relay-url': relay.url, 'relay-token': relay.token } });
  const ended = performance.now();
  const ms = ended - started;
  const requests = proxied.slice(before);
  const report = JSON.parse(run.outputs.report ?? 'null') as Report | null;
  const target = report?.targets[0];
  if (run.exitCode !== 0 || target?.outcome !== 'succeeded') {
    throw new Error(`the deployment did not succeed (exit ${run.exitCode}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  }
  const webhooks = target.steps.filter((s) => s.kind === 'webhook' && s.state === 'succeeded');
  const stepMs = webhooks.map((s) => Date.parse(s.end) - Date.parse(s.start));
  const toRelay = requests.filter((r) => r.relay);
  const from = toRelay.find((r) => r.route === 'POST /v1/gates')?.started ?? started;
  const to = Math.max(from, ...toRelay.map((r) => r.ended));
  return { ms, stepMs, requests, stepsWindowMs: to - from, relayMs: coveredMs(toRelay, from, to), ioMs: coveredMs(requests, from, to) };
}

/**
 * Requests per further step: the 50-step run's minus the 1-step run's, ÷ 49 (exact: fixed requests such as the target's
 * record cancel out). Times per step: within the 50-step run's steps window, ÷ 50 (no difference of two noisy wall
 * times). Medians over the runs.
 */
function stepSplit(many: TimedRun[], one: TimedRun[], steps: number): StepSplit {
  const per = (f: (run: TimedRun) => number): number => median(many.map((run, i) => (f(run) - f(one[i] as TimedRun)) / (steps - 1)));
  const inWindow = (f: (run: TimedRun) => number): number => median(many.map((run) => f(run) / steps));
  const routes = [...new Set(many.flatMap((run) => run.requests.filter((r) => r.relay).map((r) => r.route)))].sort();
  const count = (run: TimedRun, route?: string): number => run.requests.filter((r) => r.relay && (route === undefined || r.route === route)).length;
  return {
    relayRequests: per((run) => count(run)),
    byRoute: routes.map((route) => ({ route, perStep: per((run) => count(run, route)) })),
    relayMs: inWindow((run) => run.relayMs),
    webhookMs: inWindow((run) => run.ioMs - run.relayMs),
    ownMs: inWindow((run) => run.stepsWindowMs - run.ioMs),
  };
}

export async function measureEngineOverhead(direct: RelayTarget, steps = 50, runs = 3): Promise<EngineOverhead> {
  const external = await startExternalSystem();
  const proxy = await startTimingProxy(new URL(direct.url), new URL(external.url));
  const relay: RelayTarget = { url: proxy.url, token: direct.token };
  const dirs: string[] = [];
  try {
    const workspace = async (count: number): Promise<string> => {
      const dir = await mkdtemp(join(tmpdir(), 'hookgate-bench-engine-'));
      dirs.push(dir);
      await writeFile(join(dir, 'deploy.yml'), deploymentFile(count, proxy.url));
      return dir;
    };
    const many = await workspace(steps);
    const one = await workspace(1);
    await timedRun(one, relay, proxy.requests); // warm-up, unmeasured
    const manyRuns: TimedRun[] = [];
    const oneRuns: TimedRun[] = [];
    for (let i = 0; i < runs; i++) {
      manyRuns.push(await timedRun(many, relay, proxy.requests));
      oneRuns.push(await timedRun(one, relay, proxy.requests));
    }
    const totalMs = median(manyRuns.map((run) => run.ms));
    const oneStepMs = median(oneRuns.map((run) => run.ms));
    return {
      steps,
      runs,
      totalMs,
      oneStepMs,
      perStepMs: totalMs / steps,
      marginalPerStepMs: (totalMs - oneStepMs) / (steps - 1),
      reportedStepMs: median(manyRuns.flatMap((run) => run.stepMs)),
      split: stepSplit(manyRuns, oneRuns, steps),
    };
  } finally {
    await proxy.close();
    await external.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

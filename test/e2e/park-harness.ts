/**
 * The world of the park-and-resume tests: a fake GitHub that is the relay's GitHub App's GitHub
 * (App JWT, installation tokens, workflow dispatches checked), a relay of the test file's own
 * configured with a key pair made for this run, and a runner: when the fake accepts a dispatch
 * carrying `hookgate-resume`, it starts the jobs the test said the workflow has, with that event.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import { RESUME_INPUT, RunView } from '../../shared/park.ts';
import { WORKFLOW_FILE, dispatchedJob, newJob, startAction, workflowDispatchEvent } from '../../scripts/run-action.ts';
import type { ActionProcess, ActionRun, RunnerEvent, RunnerJob } from '../../scripts/run-action.ts';
import { startFakeGitHub } from '../support/github-api.ts';
import type { FakeGitHub, FakeWorkflow, WorkflowDispatch } from '../support/github-api.ts';
import { SECRET, startHarness, webhook } from './harness.ts';
import type { Harness, Workspace } from './harness.ts';
import { Started } from './started.ts';

export const APP_ID = '424242';
export const REPOSITORY = 'acme/potato-facts';
/** Short enough for a test, long enough that a job that runs a command first is not "only waiting" yet. */
export const PARK_AFTER = '2s';
/** How long `resumeOn` waits for GitHub to be asked. */
const RESUME_WAIT_MS = 60_000;

export interface ParkWorldOptions {
  /** The App key as GitHub hands it out (PKCS#1, `BEGIN RSA PRIVATE KEY`) instead of PKCS#8. */
  pkcs1?: boolean;
  /** No GitHub App at the relay (no GITHUB_APP_* vars). */
  noApp?: boolean;
  resumeRetrySeconds?: number;
  /** GitHub Enterprise Server 3.19, which refuses `return_run_details`. */
  ghes?: boolean;
  /** The workflow's declared `workflow_dispatch` inputs; default just `hookgate-resume`. */
  workflowInputs?: FakeWorkflow['inputs'];
}

export interface StartOptions {
  event?: RunnerEvent;
  env?: Record<string, string>;
}

/** One resume: the dispatch GitHub accepted and the jobs the runner started for it. */
export interface Resumed {
  dispatch: WorkflowDispatch;
  runner: RunnerJob;
  runs: ActionRun[];
}

export interface ParkWorld {
  h: Harness;
  github: FakeGitHub;
  /** Dispatches no test expected (the runner started nothing for them). */
  unexpected: WorkflowDispatch[];
  /** A job's inputs: the relay, the secret, park-after, then `extra`. */
  inputs(extra?: Record<string, string>): Record<string, string>;
  /** Starts a hookgate step of `runner`'s run in `ws` (a push by default; `env` over the runner's). */
  start(ws: Workspace, runner: RunnerJob, extra?: Record<string, string>, how?: StartOptions): Promise<ActionProcess>;
  /**
   * When the fake accepts a dispatch resuming `deploymentId`, starts one job per entry of `jobs`
   * (their extra inputs) in the dispatched run, with the workflow_dispatch event; resolves when all ended.
   */
  resumeOn(ws: Workspace, deploymentId: string, jobs?: Record<string, string>[]): Promise<Resumed>;
  /** GET /v1/runs?run=: the run view. */
  runView(deploymentId: string): Promise<RunView>;
  close(): Promise<void>;
}

/** A key pair for the App: the private key as the relay gets it, the public one as GitHub keeps it. */
function appKeys(pkcs1: boolean): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export(pkcs1 ? { type: 'pkcs1', format: 'pem' } : { type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Starts the fake GitHub, then the relay pointed at it; a failed start leaves nothing running. */
export async function startParkWorld(options: ParkWorldOptions = {}): Promise<ParkWorld> {
  const started = new Started();
  const keys = appKeys(options.pkcs1 ?? false);
  const app = options.noApp ? undefined : { id: APP_ID, publicKey: keys.publicKey, repositories: [REPOSITORY] };
  const github = await started.add(() => startFakeGitHub('ghs_unusedActionsToken', { ...(app ? { app } : {}), ghes: options.ghes ?? false }), (fake) => fake.close());
  github.registerWorkflow({ repository: REPOSITORY, file: WORKFLOW_FILE, inputs: options.workflowInputs ?? { [RESUME_INPUT]: {} } });
  const vars: Record<string, string> = { GITHUB_API_URL: github.url, RESUME_RETRY_SECONDS: String(options.resumeRetrySeconds ?? 3600) };
  if (!options.noApp) Object.assign(vars, { GITHUB_APP_ID: APP_ID, GITHUB_APP_PRIVATE_KEY: keys.privateKey });
  const h = await started.add(() => startHarness({ ownRelay: { vars } }), (harness) => harness.close());

  const waiting = new Map<string, (dispatch: WorkflowDispatch) => void>();
  const unexpected: WorkflowDispatch[] = [];
  github.onDispatch((dispatch) => {
    const id = dispatch.inputs[RESUME_INPUT] ?? '';
    const take = waiting.get(id);
    if (!take) return void unexpected.push(dispatch);
    waiting.delete(id);
    take(dispatch);
  });
  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
    'relay-url': h.relay.url,
    'relay-token': h.relay.relayToken,
    secrets: JSON.stringify({ api_token: SECRET }),
    'park-after': PARK_AFTER,
    ...extra,
  });
  const start = (ws: Workspace, runner: RunnerJob, extra: Record<string, string> = {}, how: StartOptions = {}): Promise<ActionProcess> =>
    startAction({ workspace: ws.dir, job: runner, inputs: inputs(extra), env: how.env ?? {}, ...(how.event ? { event: how.event } : {}) });
  return {
    h,
    github,
    unexpected,
    inputs,
    start,
    async resumeOn(ws, deploymentId, jobs = [{}]) {
      const dispatch = await new Promise<WorkflowDispatch>((resolve, reject) => {
        // Well inside the test's timeout, saying what GitHub refused (never the credentials it was sent).
        const timer = setTimeout(() => {
          waiting.delete(deploymentId);
          const refused = github.refusals().map((r) => `${r.method} ${r.path} → ${r.status} ${r.refusal ?? ''}`);
          reject(new Error(`no dispatch resuming ${deploymentId} within ${RESUME_WAIT_MS / 1000} s; GitHub refused: ${JSON.stringify(refused)}`));
        }, RESUME_WAIT_MS);
        waiting.set(deploymentId, (found) => {
          clearTimeout(timer);
          resolve(found);
        });
      });
      const runner = dispatchedJob(dispatch.runId);
      const event = workflowDispatchEvent(dispatch.inputs);
      const processes = await Promise.all(jobs.map((extra) => start(ws, runner, extra, { event })));
      return { dispatch, runner, runs: await Promise.all(processes.map((p) => p.done)) };
    },
    async runView(deploymentId) {
      const answer = await fetch(`${h.relay.url}/v1/runs?run=${encodeURIComponent(deploymentId)}`, { headers: { authorization: `Bearer ${h.relay.relayToken}` } });
      if (answer.status !== 200) throw new Error(`GET /v1/runs answered ${answer.status}: ${await answer.text()}`);
      return RunView.parse(await answer.json());
    },
    close: () => started.stopAll(),
  };
}

/** A job of a new run (push event), its deployment id the default one, `<repository>/<run id>`. */
export function pushedRun(): { runner: RunnerJob; deploymentId: string } {
  const runner = newJob();
  return { runner, deploymentId: `${REPOSITORY}/${runner.runId}` };
}

/** The processes whose working directory is `dir` (the action and anything it spawned there). */
export async function processesIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === dir) pids.push(Number(entry));
  }
  return pids;
}

/** The lines a command appended to `file` (commands here append their target's name). */
export async function linesOf(ws: Workspace, file: string): Promise<string[]> {
  if (!ws.has(file)) return [];
  return (await ws.read(file)).trim().split('\n').filter(Boolean);
}

/** Each command appends `<target>` to a file named for it, so a command run twice shows twice. */
export const COUNTING_COMMANDS = `
commands:
  deploy: echo "$HOOKGATE_TARGET" >> deploys
  setWeight: echo "$HOOKGATE_TARGET $HOOKGATE_WEIGHT" >> weights
  rollback: echo "$HOOKGATE_TARGET" >> rollbacks
`;

/** One target, staging, whose beforeDeployment webhook Ticket is answered by the test (`decision=none`). */
export const TICKET_FILE = `
${COUNTING_COMMANDS}
targets:
  staging:
    constraints:
      beforeDeployment:
        - runWebhook: { name: Ticket }
webhooks:
${webhook('Ticket', 'decision=none')}
`;

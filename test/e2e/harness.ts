/** Shared set-up of the end-to-end tests: a real relay, a simulated external system, a workspace. */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { RunReport } from '../../action/engine/report.ts';
import { startExternalSystem } from '../../scripts/external-system.ts';
import type { ExternalSystem } from '../../scripts/external-system.ts';
import { startLocalRelay } from '../../scripts/local-relay.ts';
import type { LocalRelay, LocalRelayOptions } from '../../scripts/local-relay.ts';
import { newJob, runAction, startAction } from '../../scripts/run-action.ts';
import type { ActionProcess, ActionRun, RunnerJob } from '../../scripts/run-action.ts';
import type { SharedRelay } from './shared-relay.ts';
import { Started } from './started.ts';

/** A secret that must never show up in what the action prints or writes. */
export const SECRET = 'sk-live-7f3a9c2e-never-print-me';

export interface Harness {
  relay: LocalRelay;
  external: ExternalSystem;
  stateDir: string;
  /** A fresh workspace holding `deploy.yml`; commands' marker files land here. */
  workspace(deployYml: string): Promise<Workspace>;
  close(): Promise<void>;
}

export interface Workspace {
  dir: string;
  /** Runs the action as the only step of a job of a new workflow run. */
  run(extraInputs?: Record<string, string>, env?: Record<string, string>): Promise<ActionRun>;
  start(extraInputs?: Record<string, string>, env?: Record<string, string>): Promise<ActionProcess>;
  /** A job whose steps share one run id and attempt, as a real job's do (`runnerJob` for another job of the same run). */
  job(runnerJob?: RunnerJob): Job;
  /** Whether the command of that name wrote its marker (`touch <name>` in the file's commands). */
  has(marker: string): boolean;
  read(file: string): Promise<string>;
}

/** Steps of one job: hookgate steps (gate mode has several) and the post step the runner adds at its end. */
export interface Job {
  runner: RunnerJob;
  run(extraInputs?: Record<string, string>, env?: Record<string, string>): Promise<ActionRun>;
  start(extraInputs?: Record<string, string>, env?: Record<string, string>): Promise<ActionProcess>;
  /** The post step of the step that ended as `main` (its saved state); give it that step's inputs, as the runner does. */
  post(main: ActionRun, extraInputs?: Record<string, string>, env?: Record<string, string>): Promise<ActionRun>;
}

/** The standard commands: each leaves a marker file per target. */
export const COMMANDS = `
commands:
  deploy: touch "deployed-$HOOKGATE_TARGET"
  setWeight: echo "$HOOKGATE_WEIGHT" >> "weights-$HOOKGATE_TARGET"
  rollback: touch "rolled-back-$HOOKGATE_TARGET"
`;

export interface HarnessOptions {
  /**
   * A relay of the test file's own, with these options, instead of the one the e2e files share
   * (shared-relay.ts): for a test that kills or restarts it, or needs other vars.
   */
  ownRelay?: Omit<LocalRelayOptions, 'stateDir'>;
}

/** Starts the external system and the relay, or waits for the shared one; a failed start leaves nothing running. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const started = new Started();
  const tempDir = (prefix: string): Promise<string> =>
    started.add(
      () => mkdtemp(join(tmpdir(), prefix)),
      (dir) => rm(dir, { recursive: true, force: true }),
    );
  let relay: LocalRelay;
  let stateDir: string;
  if (options.ownRelay) {
    const own = options.ownRelay;
    stateDir = await tempDir('hookgate-relay-state-');
    // The stop reads `harness.relay`: a test may replace the relay with one restarted on the same state.
    relay = await started.add(
      () => startLocalRelay({ ...own, stateDir }),
      () => harness.relay.stop(),
    );
  } else {
    const shared = inject('sharedRelay');
    ({ stateDir } = shared);
    relay = await sharedRelay(shared);
  }
  const external = await started.add(startExternalSystem, (system) => system.close());
  const harness: Harness = {
    relay,
    external,
    stateDir,
    async workspace(deployYml) {
      const dir = await tempDir('hookgate-ws-');
      await writeFile(join(dir, 'deploy.yml'), deployYml.replaceAll('EXTERNAL', external.url));
      return workspaceIn(dir, (extra = {}) => ({
        'relay-url': harness.relay.url,
        'relay-token': harness.relay.relayToken,
        secrets: JSON.stringify({ api_token: SECRET }),
        ...extra,
      }));
    },
    close: () => started.stopAll(),
  };
  return harness;
}

/** The shared relay once it answers; it is globalSetup's to stop, not a test file's. */
async function sharedRelay(shared: SharedRelay): Promise<LocalRelay> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const status = await fetch(`${shared.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) throw new Error(`the shared relay at ${shared.url} did not answer within 90 s (see the globalSetup's error)`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const notYours = (): Promise<void> => Promise.reject(new Error('the shared relay is stopped by test/e2e/shared-relay.ts: use startHarness({ ownRelay })'));
  return { url: shared.url, port: shared.port, relayToken: shared.relayToken, stop: notYours, kill: notYours };
}

function workspaceIn(dir: string, inputs: (extra?: Record<string, string>) => Record<string, string>): Workspace {
  const job = (runner: RunnerJob = newJob()): Job => ({
    runner,
    run: (extra, env) => runAction({ workspace: dir, job: runner, inputs: inputs(extra), env: env ?? {} }),
    start: (extra, env) => startAction({ workspace: dir, job: runner, inputs: inputs(extra), env: env ?? {} }),
    post: (main, extra, env) => runAction({ workspace: dir, job: runner, entry: 'post', state: main.state, inputs: inputs(extra), env: env ?? {} }),
  });
  return {
    dir,
    run: (extra, env) => job().run(extra, env),
    start: (extra, env) => job().start(extra, env),
    job,
    has: (marker) => existsSync(join(dir, marker)),
    read: (file) => readFile(join(dir, file), 'utf8'),
  };
}

/** The callback URI the external system was given in its latest call to `path`. */
export function callbackUriOf(external: ExternalSystem, path: string): string {
  const received = external.webhooks.filter((w) => w.path === path).at(-1);
  if (!received) throw new Error(`the external system got no call to ${path}`);
  return (JSON.parse(received.body) as { callbackUri: string }).callbackUri;
}

/** The `report` output, parsed. */
export function reportOf(run: ActionRun): RunReport {
  const text = run.outputs.report;
  if (!text) throw new Error(`no report output; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  return JSON.parse(text) as RunReport;
}

/**
 * Whether the secret stayed out of everything the action produced. `::add-mask::`
 * lines are the runner's masking commands: the runner consumes them, never shows them.
 */
export function secretFree(run: ActionRun): boolean {
  const log = run.stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  return ![log, run.stderr, run.summary, JSON.stringify(run.outputs)].some((text) => text.includes(SECRET));
}

/** A webhook definition calling the external system with the given behaviour (see external-system.ts). */
export function webhook(name: string, query: string, extra = ''): string {
  return `
  - name: ${name}
    uriTemplate: "EXTERNAL/hooks/${name}?${query}"
    headers:
      - { key: Authorization, value: "Bearer {{secrets.api_token}}" }
    bodyTemplate:
      inline: '{"callbackUri": "{{armory.callbackUri}}/callback", "sha": "{{github.sha}}", "env": "{{armory.environmentName}}"}'
${extra}`;
}

/** A deployment id no other test uses, in the action's default shape. */
export function runIdOf(label: string): string {
  return `acme/potato-facts/${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

/** A deployment file whose one target, staging, has one webhook gate in `list`. */
export function oneGate(name: string, query: string, list: 'beforeDeployment' | 'afterDeployment' = 'beforeDeployment', extra = ''): string {
  return `
targets:
  staging:
    constraints:
      ${list}:
        - runWebhook: { name: ${name} }
webhooks:
${webhook(name, query, extra)}
`;
}

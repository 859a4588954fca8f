/** Shared set-up of the end-to-end tests: a real relay, a simulated external system, a workspace. */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../action/engine/report.ts';
import { startExternalSystem } from '../../scripts/external-system.ts';
import type { ExternalSystem } from '../../scripts/external-system.ts';
import { startLocalRelay } from '../../scripts/local-relay.ts';
import type { LocalRelay, LocalRelayOptions } from '../../scripts/local-relay.ts';
import { runAction, startAction } from '../../scripts/run-action.ts';
import type { ActionProcess, ActionRun } from '../../scripts/run-action.ts';

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
  run(extraInputs?: Record<string, string>, env?: Record<string, string>): Promise<ActionRun>;
  start(extraInputs?: Record<string, string>, env?: Record<string, string>): Promise<ActionProcess>;
  /** Whether the command of that name wrote its marker (`touch <name>` in the file's commands). */
  has(marker: string): boolean;
  read(file: string): Promise<string>;
}

/** The standard commands: each leaves a marker file per target. */
export const COMMANDS = `
commands:
  deploy: touch "deployed-$HOOKGATE_TARGET"
  setWeight: echo "$HOOKGATE_WEIGHT" >> "weights-$HOOKGATE_TARGET"
  rollback: touch "rolled-back-$HOOKGATE_TARGET"
`;

/** Starts the relay (with `relay` options over the defaults) and the external system. */
export async function startHarness(relayOptions: Omit<LocalRelayOptions, 'stateDir'> = {}): Promise<Harness> {
  const stateDir = await mkdtemp(join(tmpdir(), 'hookgate-relay-state-'));
  const relay = await startLocalRelay({ ...relayOptions, stateDir });
  const external = await startExternalSystem();
  const dirs: string[] = [stateDir];
  const harness: Harness = {
    relay,
    external,
    stateDir,
    async workspace(deployYml) {
      const dir = await mkdtemp(join(tmpdir(), 'hookgate-ws-'));
      dirs.push(dir);
      await writeFile(join(dir, 'deploy.yml'), deployYml.replaceAll('EXTERNAL', external.url));
      const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({
        'relay-url': harness.relay.url,
        'relay-token': harness.relay.relayToken,
        secrets: JSON.stringify({ api_token: SECRET }),
        ...extra,
      });
      return {
        dir,
        run: (extra, env) => runAction({ workspace: dir, inputs: inputs(extra), env: env ?? {} }),
        start: (extra, env) => startAction({ workspace: dir, inputs: inputs(extra), env: env ?? {} }),
        has: (marker) => existsSync(join(dir, marker)),
        read: (file) => readFile(join(dir, file), 'utf8'),
      };
    },
    async close() {
      await external.close();
      await harness.relay.stop();
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
  return harness;
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

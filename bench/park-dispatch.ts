/**
 * Park and resume (issue 11): how soon the relay asks GitHub to resume a parked deployment once
 * its last gate is decided, and how many requests a parked job's runner makes (none: it is gone).
 * A relay of its own runs with a GitHub App (a key pair made for the run) whose GitHub is the
 * tests' fake (test/support/github-api), which checks the App JWT, the token and the body.
 *
 * Decision → dispatch: N deployments, each with two webhook gates, parked through the relay's API
 * (`POST /v1/runs/park`, as the action does); the first gate is decided, then the last one, and
 * the time is taken from sending that last callback to the dispatch request's arrival at the fake.
 * One deployment at a time, so it is a latency, not a queue. `node bench/park-dispatch.ts` runs this part alone.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESUME_INPUT } from '../shared/park.ts';
import { startLocalRelay } from '../scripts/local-relay.ts';
import type { LocalRelay } from '../scripts/local-relay.ts';
import { startFakeGitHub } from '../test/support/github-api.ts';
import type { FakeGitHub, WorkflowDispatch } from '../test/support/github-api.ts';
import { measureParkedHour } from './parked-hour.ts';
import type { ParkedHour } from './parked-hour.ts';
import { cleanupAll, onCleanup } from './processes.ts';
import { registerGates, sendCallback } from './relay-gates.ts';
import { distribution, ms } from './stats.ts';
import type { Distribution } from './stats.ts';

export const PARK_DEPLOYMENTS = 50;
const APP_ID = '777';
export const REPOSITORY = 'acme/potato-facts';
export const WORKFLOW = '.github/workflows/deploy.yml';

export interface ParkResult {
  deployments: number;
  /** Last callback sent → the dispatch request at the fake GitHub, ms. */
  decisionToDispatch: Distribution;
  /** The first deployment's, which also looked up the installation and fetched its token (the others reuse it). */
  firstMs: number;
  /** The others': the token cached. */
  warm: Distribution;
  /** Dispatches that arrived before the last gate was decided (must be 0). */
  early: number;
  parkedHour: ParkedHour;
}

/** The fake GitHub and a relay with the App; stopped by the bench's cleanup. */
async function startAppRelay(): Promise<{ relay: LocalRelay; github: FakeGitHub }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const github = await startFakeGitHub('ghs_unused', { app: { id: APP_ID, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), repositories: [REPOSITORY] } });
  onCleanup(() => github.close());
  github.registerWorkflow({ repository: REPOSITORY, file: WORKFLOW, inputs: { [RESUME_INPUT]: {} } });
  const stateDir = await mkdtemp(join(tmpdir(), 'hookgate-bench-park-'));
  onCleanup(() => rm(stateDir, { recursive: true, force: true }));
  const relay = await startLocalRelay({
    stateDir,
    vars: { GITHUB_APP_ID: APP_ID, GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), GITHUB_API_URL: github.url },
  });
  onCleanup(() => relay.stop());
  return { relay, github };
}

/** Parks a deployment of two gates the way the action does, as GitHub run `runNumber`; their callback URIs. */
export async function parkTwoGates(relay: { url: string; token: string }, runId: string, index: number, runNumber: number): Promise<string[]> {
  const gates = await registerGates(relay, [runId, runId], `park-${index}`);
  const response = await fetch(`${relay.url}/v1/runs/park`, {
    method: 'POST',
    headers: { authorization: `Bearer ${relay.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      runId,
      job: '*',
      attempt: 1,
      gateIds: gates.map((g) => g.view.gateId),
      targets: [],
      resume: { repository: REPOSITORY, workflow: WORKFLOW, ref: 'refs/heads/main' },
      run: { id: String(runNumber), attempt: 1, url: '' },
    }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST /v1/runs/park answered ${response.status}: ${text}`);
  return gates.map((g) => g.callbackUri);
}

function parkOne(relay: LocalRelay, runId: string, index: number): Promise<string[]> {
  return parkTwoGates({ url: relay.url, token: relay.relayToken }, runId, index, 1000 + index);
}

/** The dispatch resuming `runId`, once it arrives (within 30 s). */
function dispatchOf(github: FakeGitHub, runId: string): Promise<WorkflowDispatch> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 30_000;
    const look = (): void => {
      const found = github.workflowDispatches.find((d) => d.inputs[RESUME_INPUT] === runId);
      if (found) return resolve(found);
      if (Date.now() > deadline) return reject(new Error(`no dispatch for ${runId} within 30 s; fake GitHub refused: ${JSON.stringify(github.refusals().map((r) => r.refusal))}`));
      setTimeout(look, 2);
    };
    look();
  });
}

async function measureDecisionToDispatch(relay: LocalRelay, github: FakeGitHub, say: (line: string) => void): Promise<Omit<ParkResult, 'parkedHour'>> {
  const stamp = Date.now().toString(36);
  const samples: number[] = [];
  let early = 0;
  for (let i = 0; i < PARK_DEPLOYMENTS; i++) {
    const runId = `bench/park-${stamp}/${i}`;
    const [firstGate = '', lastGate = ''] = await parkOne(relay, runId, i);
    if ((await sendCallback(firstGate)) !== 200) throw new Error('the first callback was refused');
    // A dispatch now would be wrong (a gate still waits); give the alarm a moment to show it.
    await new Promise((r) => setTimeout(r, 20));
    if (github.workflowDispatches.some((d) => d.inputs[RESUME_INPUT] === runId)) early += 1;
    const sent = Date.now();
    const status = await sendCallback(lastGate);
    if (status !== 200) throw new Error(`the last callback answered ${status}`);
    samples.push((await dispatchOf(github, runId)).at - sent);
  }
  const result = { deployments: PARK_DEPLOYMENTS, decisionToDispatch: distribution(samples), firstMs: samples[0] ?? Number.NaN, warm: distribution(samples.slice(1)), early };
  say(`park: last decision → dispatch at GitHub p50 ${ms(result.decisionToDispatch.p50)}, p99 ${ms(result.decisionToDispatch.p99)} over ${PARK_DEPLOYMENTS} parked deployments`);
  return result;
}

/** Starts the App's relay and the fake GitHub, measures both figures; the bench's cleanup stops them. */
export async function measurePark(say: (line: string) => void, parkedWindowSeconds = 30): Promise<ParkResult> {
  const { relay, github } = await startAppRelay();
  say(`park: relay with a GitHub App on ${relay.url}, fake GitHub on ${github.url}`);
  const latency = await measureDecisionToDispatch(relay, github, say);
  const parkedHour = await measureParkedHour(relay, parkedWindowSeconds, say);
  return { ...latency, parkedHour };
}

/** The lines this part adds to the terminal table. */
export function parkLines(park: ParkResult): string[] {
  const d = park.decisionToDispatch;
  const h = park.parkedHour;
  return [
    `6. Park and resume: last decision → dispatch request at GitHub, ${park.deployments} parked deployments, one at a time`,
    `   p50 ${ms(d.p50)} | p90 ${ms(d.p90)} | p99 ${ms(d.p99)} | max ${ms(d.max)} | first (installation + token) ${ms(park.firstMs)}, the others' p99 ${ms(park.warm.p99)} | dispatched early ${park.early}`,
    `   parked job: exited parked after ${ms(h.exitedAfterMs)} with ${h.requestsBeforeExit} relay requests; then ${h.requestsAfterExit} requests in ${h.windowSeconds} s parked → ${h.perHour} requests per parked hour; processes left ${h.processesLeft}`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const started = performance.now();
    const park = await measurePark((line) => console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`));
    console.log(parkLines(park).join('\n'));
  } finally {
    await cleanupAll();
  }
}

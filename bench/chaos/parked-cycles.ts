/**
 * The parked cycles: a relay with a GitHub App whose GitHub is the tests' fake (as
 * bench/park-dispatch.ts runs it). Each cycle parks a deployment of two gates through the relay's
 * park API (`POST /v1/runs/park`, the request the action sends when it parks), decides the first
 * gate, sends the last decision and SIGKILLs the relay either before that callback's 200 arrives or
 * 0–50 ms after it (the alarm sends the dispatch within that time), restarts it on the same state,
 * retries the callback if it got no answer, and waits for the resume dispatch at the fake GitHub.
 * At the end the dispatches per parked run are counted: exactly one each is the goal.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESUME_INPUT } from '../../shared/park.ts';
import { startFakeGitHub } from '../../test/support/github-api.ts';
import type { FakeGitHub } from '../../test/support/github-api.ts';
import { onCleanup } from '../processes.ts';
import { REPOSITORY, WORKFLOW, parkTwoGates } from '../park-dispatch.ts';
import { median, sleep } from '../stats.ts';
import { isOk, postDecision, retryDecision } from './http.ts';
import { RestartableRelay } from './restartable-relay.ts';
import { tallyParkedCycles } from './tally.ts';
import type { KillMoment, ParkedChaos, ParkedCycle } from './tally.ts';

const APP_ID = '777';
/** Share of the cycles whose kill is aimed before the last callback's 200. */
const BEFORE_200_SHARE = 0.25;
/** After the 200, the kill falls uniformly within this many ms. */
const AFTER_200_MS = 50;
/** How long a restarted relay has to send a resume that is due. */
const DISPATCH_DEADLINE_MS = 30_000;
/** After the last cycle, how long the count waits for late (duplicate) dispatches. */
const SETTLE_MS = 3_000;
const WARM_UP_PARKS = 3;

async function startAppRelay(): Promise<{ relay: RestartableRelay; github: FakeGitHub }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const github = await startFakeGitHub('ghs_unused', { app: { id: APP_ID, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), repositories: [REPOSITORY] } });
  onCleanup(() => github.close());
  github.registerWorkflow({ repository: REPOSITORY, file: WORKFLOW, inputs: { [RESUME_INPUT]: {} } });
  const stateDir = await mkdtemp(join(tmpdir(), 'hookgate-chaos-park-'));
  onCleanup(() => rm(stateDir, { recursive: true, force: true }));
  const relay = await RestartableRelay.start(stateDir, {
    GITHUB_APP_ID: APP_ID,
    GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    GITHUB_API_URL: github.url,
  });
  return { relay, github };
}

/** Parks a deployment of two gates as the action does; their callback URIs. */
async function park(relay: RestartableRelay, runId: string, index: number): Promise<[string, string]> {
  const [first, last] = await parkTwoGates({ url: relay.url, token: relay.token }, runId, index, 5000 + index);
  if (!first || !last) throw new Error('park: two gates expected');
  return [first, last];
}

function dispatchesOf(github: FakeGitHub, runId: string): { at: number }[] {
  return github.workflowDispatches.filter((d) => d.inputs[RESUME_INPUT] === runId);
}

/** Epoch ms (the fake GitHub's clock) of a performance.now() reading. */
const wall = (at: number): number => performance.timeOrigin + at;

async function firstDispatch(github: FakeGitHub, runId: string): Promise<{ at: number } | null> {
  const deadline = Date.now() + DISPATCH_DEADLINE_MS;
  while (Date.now() < deadline) {
    const found = dispatchesOf(github, runId)[0];
    if (found) return found;
    await sleep(5);
  }
  return null;
}

/** Parks and resumes a few deployments with no kill: the last callback's usual round trip, ms. */
async function warmUp(relay: RestartableRelay, github: FakeGitHub, stamp: string): Promise<{ roundTripMs: number; toDispatchMs: number }> {
  const trips: number[] = [];
  const toDispatch: number[] = [];
  for (let i = 0; i < WARM_UP_PARKS; i++) {
    const runId = `chaos-park/${stamp}/warm-up-${i}`;
    const [first, last] = await park(relay, runId, i);
    if (!isOk((await postDecision(first)).status)) throw new Error('warm-up: the first callback was refused');
    const started = performance.now();
    const sent = await postDecision(last);
    if (!isOk(sent.status)) throw new Error(`warm-up: the last callback answered ${sent.status}`);
    trips.push(sent.at - started);
    const dispatch = await firstDispatch(github, runId);
    if (!dispatch) throw new Error(`warm-up: no dispatch for ${runId} within ${DISPATCH_DEADLINE_MS / 1000} s (no kill involved)`);
    toDispatch.push(dispatch.at - wall(sent.at));
  }
  return { roundTripMs: median(trips), toDispatchMs: median(toDispatch) };
}

async function parkedCycle(relay: RestartableRelay, github: FakeGitHub, runId: string, index: number, aimed: KillMoment, delayMs: number): Promise<Omit<ParkedCycle, 'dispatches' | 'dispatchVsKillMs'>> {
  const [first, last] = await park(relay, runId, index);
  if (!isOk((await postDecision(first)).status)) throw new Error(`${runId}: the first callback was refused`);
  // The first decision's own alarm work is over before the last decision is sent.
  await sleep(20);
  const send = postDecision(last);
  const kill = aimed === 'before-200' ? sleep(delayMs).then(() => relay.kill()) : send.then(() => sleep(delayMs)).then(() => relay.kill());
  const killedMs = await kill;
  const sent = await send;
  const killedAt = relay.killedAt;
  const dispatchedBeforeKill = dispatchesOf(github, runId).filter((d) => d.at <= wall(killedAt)).length;
  const restart = await relay.restart(killedMs);
  if (!isOk(sent.status)) {
    const retry = await retryDecision(last);
    if (!retry.ok) throw new Error(`${runId}: the restarted relay did not accept the last decision in ${retry.sends} sends`);
  }
  const dispatch = await firstDispatch(github, runId);
  const resumeAfterSpawnMs = dispatch && dispatch.at > wall(killedAt) ? dispatch.at - wall(restart.spawnedAt) : null;
  const offsetMs = sent.status === null ? null : killedAt - sent.at;
  return { aimed, offsetMs, status: sent.status, dispatchedBeforeKill, resumeAfterSpawnMs, restart };
}

export async function runParkedCycles(cycles: number, random: () => number, say: (line: string) => void): Promise<ParkedChaos & { roundTripMs: number; toDispatchMs: number }> {
  const { relay, github } = await startAppRelay();
  const stamp = Date.now().toString(36);
  const { roundTripMs, toDispatchMs } = await warmUp(relay, github, stamp);
  say(`parked: relay with a GitHub App on ${relay.url}, fake GitHub on ${github.url}; with no kill the last callback takes ${roundTripMs.toFixed(0)} ms and its 200 → dispatch ${toDispatchMs.toFixed(0)} ms`);
  const runs: { runId: string; killedAt: number; cycle: Omit<ParkedCycle, 'dispatches' | 'dispatchVsKillMs'> }[] = [];
  for (let i = 0; i < cycles; i++) {
    const runId = `chaos-park/${stamp}/${i}`;
    const aimed: KillMoment = random() < BEFORE_200_SHARE ? 'before-200' : 'after-200';
    const delayMs = random() * (aimed === 'before-200' ? roundTripMs : AFTER_200_MS);
    const cycle = await parkedCycle(relay, github, runId, i, aimed, delayMs);
    runs.push({ runId, killedAt: relay.killedAt, cycle });
    const where = cycle.offsetMs === null ? 'no answer' : `${cycle.offsetMs >= 0 ? '+' : ''}${cycle.offsetMs.toFixed(1)} ms from the 200`;
    say(`parked ${i + 1}/${cycles}: kill aimed ${aimed} (${where}); dispatched before the kill ${cycle.dispatchedBeforeKill}; dispatches now ${dispatchesOf(github, runId).length}; restart → first answer ${(cycle.restart.firstAnswerMs / 1000).toFixed(2)} s`);
  }
  // A resume sent twice would show up late (a retry after the restart): give it a moment.
  await sleep(SETTLE_MS);
  const counted = runs.map(({ runId, killedAt, cycle }) => {
    const dispatches = dispatchesOf(github, runId);
    return { ...cycle, dispatches: dispatches.length, dispatchVsKillMs: dispatches.map((d) => d.at - wall(killedAt)) };
  });
  await relay.stop();
  return { ...tallyParkedCycles(counted), roundTripMs, toDispatchMs };
}

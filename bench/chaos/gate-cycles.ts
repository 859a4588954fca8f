/**
 * The gate cycles: gates wait in the action's own `waitForDecision`, their callbacks are sent all at
 * once, and at a moment drawn uniformly over the callbacks' sending window the relay's whole
 * process group is SIGKILLed and started again on the same state. Then every gate is read back:
 * an acknowledged (2xx) decision must be stored, an unacknowledged one is sent again (as an
 * external system retries) and must then be stored, and every waiter must see its decision.
 */
import { waitForDecision } from '../../action/clients/relay.ts';
import type { GateView } from '../../shared/protocol.ts';
import { registerGates } from '../relay-gates.ts';
import type { BenchGate } from '../relay-gates.ts';
import { median, sleep } from '../stats.ts';
import { isOk, postDecision, relayClient, retryDecision, storedState } from './http.ts';
import type { Sent } from './http.ts';
import type { RestartableRelay } from './restartable-relay.ts';
import { tallyGateCycles } from './tally.ts';
import type { GateChaos, GateCycle, GateObservation, WaiterSeen } from './tally.ts';

export interface GatePlan {
  cycles: number;
  gatesPerCycle: number;
  runsPerCycle: number;
}

/** How long after the restart every waiter must have seen its decision (the action's backoff reaches 10 s). */
const WAITER_DEADLINE_MS = 45_000;
const CALIBRATION_ROUNDS = 3;

interface Waiter {
  done: Promise<void>;
  seenAt: number;
  state: GateView['state'] | null;
}

interface Round {
  gates: BenchGate[];
  waiters: Waiter[];
  abort: AbortController;
}

/** Registers the round's gates over `runsPerCycle` runs and has a waiter long-poll each; resolves once every waiter has polled. */
async function setUp(relay: RestartableRelay, plan: GatePlan, tag: string): Promise<Round> {
  const runIds = Array.from({ length: plan.gatesPerCycle }, (_, i) => `chaos/${tag}/${i % plan.runsPerCycle}`);
  const gates = await registerGates({ url: relay.url, token: relay.token }, runIds, 'chaos');
  let polls = 0;
  const counting: typeof fetch = (input, init) => {
    polls += 1;
    return fetch(input, init);
  };
  const client = relayClient({ url: relay.url, token: relay.token }, counting);
  const abort = new AbortController();
  const waiters = gates.map((gate) => {
    const waiter: Waiter = { done: Promise.resolve(), seenAt: Number.NaN, state: null };
    waiter.done = waitForDecision(client, gate.view, { signal: abort.signal }).then(
      (view) => {
        waiter.seenAt = performance.now();
        waiter.state = view.state;
      },
      () => undefined,
    );
    return waiter;
  });
  // Each waiter's first long-poll is sent; a moment more and they are held in their Durable Objects.
  for (let i = 0; polls < gates.length && i < 500; i++) await sleep(10);
  await sleep(100);
  return { gates, waiters, abort };
}

/** First callback sent → last one answered, with no kill: the window the kill is drawn from. */
export async function calibrateWindow(relay: RestartableRelay, plan: GatePlan, stamp: string): Promise<number> {
  const windows: number[] = [];
  for (let round = 0; round < CALIBRATION_ROUNDS; round++) {
    const { gates, waiters, abort } = await setUp(relay, plan, `${stamp}/calibration-${round}`);
    const started = performance.now();
    const sent = await Promise.all(gates.map((gate) => postDecision(gate.callbackUri)));
    if (!sent.every((s) => isOk(s.status))) throw new Error(`calibration: callbacks answered ${sent.map((s) => s.status).join(', ')}`);
    windows.push(Math.max(...sent.map((s) => s.at)) - started);
    await Promise.race([Promise.all(waiters.map((w) => w.done)), sleep(10_000)]);
    abort.abort();
  }
  return median(windows);
}

/** One cycle: callbacks, the kill, the restart, then reading back, retrying and waiting. */
async function gateCycle(relay: RestartableRelay, plan: GatePlan, tag: string, killAtMs: number): Promise<GateCycle> {
  const round = await setUp(relay, plan, tag);
  const started = performance.now();
  const sends: Promise<Sent>[] = round.gates.map((gate) => postDecision(gate.callbackUri));
  await sleep(killAtMs);
  const killedMs = await relay.kill();
  const sent = await Promise.all(sends);
  const killedAt = relay.killedAt;
  const restart = await relay.restart(killedMs);
  const client = relayClient({ url: relay.url, token: relay.token });
  const gates: GateObservation[] = await Promise.all(
    round.gates.map(async (gate, i): Promise<GateObservation> => {
      const read = (): Promise<string> => storedState(client, gate.view.runId, gate.view.gateId);
      const status = sent[i]?.status ?? null;
      const storedAfterRestart = (await read()) === 'succeeded';
      if (isOk(status)) return { status, storedAfterRestart, retries: 0, storedAfterRetry: null, waiter: 'never', waiterAfterSpawnMs: null };
      const retry = await retryDecision(gate.callbackUri);
      return { status, storedAfterRestart, retries: retry.sends, storedAfterRetry: retry.ok && (await read()) === 'succeeded', waiter: 'never', waiterAfterSpawnMs: null };
    }),
  );
  await Promise.race([Promise.all(round.waiters.map((w) => w.done)), sleep(WAITER_DEADLINE_MS)]);
  round.abort.abort();
  round.waiters.forEach((waiter, i) => {
    const gate = gates[i];
    if (!gate) return;
    gate.waiter = waiterSeen(waiter, killedAt);
    if (gate.waiter === 'after-restart') gate.waiterAfterSpawnMs = waiter.seenAt - restart.spawnedAt;
  });
  return { gates, killAtMs: killedAt - started, restart };
}

function waiterSeen(waiter: Waiter, killedAt: number): WaiterSeen {
  if (waiter.state === null) return 'never';
  if (waiter.state !== 'succeeded') return 'wrong-decision';
  return waiter.seenAt < killedAt ? 'before-kill' : 'after-restart';
}

/** Calibrates the window, runs the cycles, counts. */
export async function runGateCycles(relay: RestartableRelay, plan: GatePlan, random: () => number, say: (line: string) => void): Promise<GateChaos> {
  const stamp = Date.now().toString(36);
  const windowMs = await calibrateWindow(relay, plan, stamp);
  say(`gates: ${plan.gatesPerCycle} callbacks at once take ${windowMs.toFixed(0)} ms (first sent → last answered, median of ${CALIBRATION_ROUNDS}); kills are drawn uniformly over it`);
  const cycles: GateCycle[] = [];
  for (let i = 0; i < plan.cycles; i++) {
    const cycle = await gateCycle(relay, plan, `${stamp}/${i}`, random() * windowMs);
    cycles.push(cycle);
    say(cycleLine(i, plan.cycles, cycle));
  }
  return tallyGateCycles(cycles, { gatesPerCycle: plan.gatesPerCycle, runsPerCycle: plan.runsPerCycle, windowMs });
}

function cycleLine(index: number, total: number, cycle: GateCycle): string {
  const acked = cycle.gates.filter((g) => isOk(g.status));
  const lost = acked.filter((g) => !g.storedAfterRestart).length;
  const unacked = cycle.gates.length - acked.length;
  const anyway = cycle.gates.filter((g) => !isOk(g.status) && g.storedAfterRestart).length;
  const missed = cycle.gates.filter((g) => g.waiter === 'never' || g.waiter === 'wrong-decision').length;
  const r = cycle.restart;
  return (
    `gates ${index + 1}/${total}: kill at ${cycle.killAtMs.toFixed(0)} ms; ${acked.length} acknowledged (${lost} lost), ${unacked} unanswered (${anyway} stored anyway); ` +
    `restart → first answer ${(r.firstAnswerMs / 1000).toFixed(2)} s; waiters ${cycle.gates.length - missed}/${cycle.gates.length}`
  );
}

/**
 * Wake latency: gates wait at once, each in the action's own waitForDecision (a
 * real long-poll on its own connection); the bench decides a sample of them one
 * at a time, in a shuffled order, and times per gate how long until that gate's
 * waitForDecision resolves: from sending the callback, from the callback's 200,
 * and from the decision's own timestamp at the relay (`decidedAt`).
 *
 * To keep "N gates waiting" true for every sample, a round registers N + S
 * gates and decides S + 1 of them, the first unmeasured: it warms the callback
 * path up (the first callback an isolate handles costs about 100 ms more, once),
 * and at each measured decision between N and N + S - 1 gates wait.
 * All S decisions end well inside the first 25 s poll window, so no re-poll
 * (the client's own, after 25 s) falls into the measurement.
 */
import { waitForDecision } from '../action/clients/relay.ts';
import { settle } from './processes.ts';
import { actionClient, cancelRuns, registerGates, runIdsFor, sendCallback } from './relay-gates.ts';
import type { RelayTarget } from './relay-gates.ts';
import { distribution, shuffled, sleep } from './stats.ts';
import type { Distribution } from './stats.ts';

export type Layout = 'one-run' | 'runs';

export interface WakeRow {
  gates: number;
  layout: Layout;
  rounds: number;
  /** Most gates waiting while a sample was taken (the least is `gates`). */
  mostWaiting: number;
  /** Callback sent → waitForDecision resolved. */
  fromSend: Distribution;
  /** Callback's 200 received → waitForDecision resolved (negative: the wake came first). */
  fromAccepted: Distribution;
  /** The relay's decidedAt (its clock, whole ms) → waitForDecision resolved. */
  fromDecided: Distribution;
  /** Callback sent → its 200. */
  callback: Distribution;
  /** Most client connections to the relay seen open while the gates waited. */
  connections: number;
}

interface Sample {
  fromSend: number;
  fromAccepted: number;
  fromDecided: number;
  callback: number;
}

const WAKE_TIMEOUT_MS = 10_000;

interface Woken {
  at: number;
  decidedAt: number;
}

/** One round: `waiting` + `decide` gates wait at once; one is decided to warm up, then `decide` one by one. */
async function round(
  relay: RelayTarget & { port: number },
  waiting: number,
  decide: number,
  layout: Layout,
  tag: string,
): Promise<{ samples: Sample[]; connections: number }> {
  const count = waiting + decide;
  const client = actionClient(relay);
  const runIds = runIdsFor(layout, count, tag);
  const gates = await registerGates(relay, runIds, tag);
  const controller = new AbortController();
  let early = 0;
  let deciding = false;
  const woken = new Map<string, Promise<Woken>>();
  for (const gate of gates) {
    const done = waitForDecision(client, gate.view, { signal: controller.signal }).then((view) => {
      const at = performance.now();
      if (view.state !== 'succeeded') throw new Error(`gate ${view.gateId} ended ${view.state}`);
      if (!deciding) early++;
      return { at, decidedAt: view.decidedAt ?? Number.NaN };
    });
    done.catch(() => undefined);
    woken.set(gate.view.gateId, done);
  }
  try {
    const connections = await settle(relay.port, count);
    if (early > 0) throw new Error(`${early} long-polls returned before any callback was sent`);
    deciding = true;
    const [warmUp, ...order] = shuffled(gates, count);
    if (!warmUp || (await sendCallback(warmUp.callbackUri)) !== 200) throw new Error('the warm-up callback failed');
    await woken.get(warmUp.view.gateId);
    const samples: Sample[] = [];
    for (const gate of order.slice(0, decide)) {
      const sent = performance.now();
      const status = await sendCallback(gate.callbackUri);
      const accepted = performance.now();
      if (status !== 200) throw new Error(`the callback got ${status}`);
      const wake = woken.get(gate.view.gateId) as Promise<Woken>;
      const woke = await Promise.race([wake, sleep(WAKE_TIMEOUT_MS).then(() => null)]);
      if (!woke) throw new Error(`gate ${gate.view.gateId} was not woken within ${WAKE_TIMEOUT_MS} ms`);
      samples.push({
        fromSend: woke.at - sent,
        fromAccepted: woke.at - accepted,
        // Both clocks are this machine's: the relay's Date.now() and the bench's epoch time.
        fromDecided: performance.timeOrigin + woke.at - woke.decidedAt,
        callback: accepted - sent,
      });
    }
    return { samples, connections };
  } finally {
    controller.abort();
    await cancelRuns(client, runIds);
  }
}

export interface WakePlan {
  /** Gates waiting at least, at every sample. */
  gates: number;
  /** Gates decided (samples) per round. */
  decide: number;
  layout: Layout;
  rounds: number;
}

/**
 * The default plan: 100 samples with 1 gate waiting, 200 with 100 (one run) and
 * 100 with 100 (a run per gate), 250 with 1,000 in one run. 1,000 gates in a
 * run each (1,250 Durable Objects to create) is FULL_WAKE_PLAN's extra row.
 */
export const WAKE_PLAN: readonly WakePlan[] = [
  { gates: 1, decide: 1, layout: 'one-run', rounds: 100 },
  { gates: 100, decide: 50, layout: 'one-run', rounds: 4 },
  { gates: 100, decide: 50, layout: 'runs', rounds: 2 },
  { gates: 1000, decide: 250, layout: 'one-run', rounds: 1 },
];

export const FULL_WAKE_PLAN: readonly WakePlan[] = [...WAKE_PLAN, { gates: 1000, decide: 250, layout: 'runs', rounds: 1 }];

export async function measureWakeLatency(
  relay: RelayTarget & { port: number },
  plan: readonly WakePlan[] = WAKE_PLAN,
  progress: (line: string) => void = () => undefined,
): Promise<WakeRow[]> {
  const rows: WakeRow[] = [];
  for (const step of plan) {
    const started = performance.now();
    const samples: Sample[] = [];
    let connections = 0;
    for (let r = 0; r < step.rounds; r++) {
      const result = await round(relay, step.gates, step.decide, step.layout, `wake-${step.gates}-${step.layout}-${r}`);
      samples.push(...result.samples);
      connections = Math.max(connections, result.connections);
    }
    const row: WakeRow = {
      gates: step.gates,
      layout: step.layout,
      rounds: step.rounds,
      mostWaiting: step.gates + step.decide - 1,
      fromSend: distribution(samples.map((s) => s.fromSend)),
      fromAccepted: distribution(samples.map((s) => s.fromAccepted)),
      fromDecided: distribution(samples.map((s) => s.fromDecided)),
      callback: distribution(samples.map((s) => s.callback)),
      connections,
    };
    progress(
      `wake latency, ${step.gates} gates waiting (${step.layout}): p50 ${row.fromSend.p50.toFixed(1)} ms, p99 ${row.fromSend.p99.toFixed(1)} ms from the callback's send (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
    rows.push(row);
  }
  return rows;
}

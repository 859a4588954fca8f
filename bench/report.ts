/** The bench's results, their headline figures and goals, and the table for the terminal (BENCHMARKS.md: markdown-report.ts). */
import { MAX_GATES_PER_RUN } from '../shared/protocol.ts';
import type { ThroughputResult, RoundTrip } from './callback-throughput.ts';
import type { ColdStart, DistSize } from './cold-start.ts';
import type { CostResult } from './cost-per-hour.ts';
import { POLLER_INTERVAL_SECONDS } from './cost-per-hour.ts';
import type { EngineOverhead } from './engine-overhead.ts';
import type { BackgroundLoad, Machine } from './machine.ts';
import { parkLines } from './park-dispatch.ts';
import type { ParkResult } from './park-dispatch.ts';
import { hourlyBill } from './pricing.ts';
import { ms, num } from './stats.ts';
import type { WakeRow } from './wake-latency.ts';

export interface BenchResults {
  date: string;
  command: string;
  seconds: number;
  machine: Machine;
  load: BackgroundLoad;
  roundTrip: RoundTrip;
  wake: WakeRow[];
  throughput: ThroughputResult;
  coldStart: ColdStart;
  dist: DistSize;
  cost: CostResult;
  engine: EngineOverhead;
  /** Park and resume (issue 11); absent from runs recorded before it. */
  park?: ParkResult;
}

/** The figures a goal is judged on, kept in BENCHMARKS.md so the next run can show the variance. */
export interface Headline {
  date: string;
  wakeP50At1000: number;
  wakeP99At1000: number;
  wakeP99At1000FromAccepted: number;
  callbacksPerSecond: number;
  trivialPerSecond: number;
  ratio: number;
  coldStartP50: number;
  coldStartMax: number;
  distBytes: number;
  longPollRequestsPerHour: number;
  pollerRequestsPerHour: number;
  engineMsPerStep: number;
  engineMarginalMsPerStep: number;
  /** Last decision → dispatch request at GitHub, p99 (runs since issue 11). */
  parkDispatchP99?: number;
  /** Relay requests per parked hour from the runner (runs since issue 11). */
  parkedRequestsPerHour?: number;
}

export const GOALS = {
  wakeP99Ms: 50,
  ratio: 0.3,
  coldStartMs: 300,
  distBytes: 2_000_000,
  parkDispatchP99Ms: 1000,
  parkedRequestsPerHour: 0,
} as const;

function wakeAt1000(results: BenchResults): WakeRow | undefined {
  return results.wake.find((row) => row.gates === 1000 && row.layout === 'one-run');
}

export function headline(results: BenchResults): Headline {
  const wake = wakeAt1000(results);
  return {
    date: results.date,
    wakeP50At1000: wake?.fromSend.p50 ?? Number.NaN,
    wakeP99At1000: wake?.fromSend.p99 ?? Number.NaN,
    wakeP99At1000FromAccepted: wake?.fromAccepted.p99 ?? Number.NaN,
    callbacksPerSecond: results.throughput.relay.perSecond,
    trivialPerSecond: results.throughput.trivial.perSecond,
    ratio: results.throughput.ratio,
    coldStartP50: results.coldStart.action.p50,
    coldStartMax: results.coldStart.action.max,
    distBytes: results.dist.totalBytes,
    longPollRequestsPerHour: results.cost.longPoll.perHour.requests,
    pollerRequestsPerHour: results.cost.poller.perHour.requests,
    engineMsPerStep: results.engine.perStepMs,
    engineMarginalMsPerStep: results.engine.marginalPerStepMs,
    ...(results.park ? { parkDispatchP99: results.park.decisionToDispatch.p99, parkedRequestsPerHour: results.park.parkedHour.perHour } : {}),
  };
}

/** The park goals, when the run measured them. */
function parkGoals(h: Headline, previous: Headline | null): Goal[] {
  if (h.parkDispatchP99 === undefined || h.parkedRequestsPerHour === undefined) return [];
  const dispatch = h.parkDispatchP99;
  const perHour = h.parkedRequestsPerHour;
  return [
    {
      name: 'Park: last decision → dispatch request at GitHub, p99',
      goal: `< ${num(GOALS.parkDispatchP99Ms)} ms`,
      value: ms(dispatch),
      previous: previous?.parkDispatchP99 === undefined ? '—' : ms(previous.parkDispatchP99),
      met: dispatch < GOALS.parkDispatchP99Ms,
    },
    {
      name: 'Park: relay requests per parked hour from the runner',
      goal: `${GOALS.parkedRequestsPerHour}`,
      value: num(perHour),
      previous: previous?.parkedRequestsPerHour === undefined ? '—' : num(previous.parkedRequestsPerHour),
      met: perHour <= GOALS.parkedRequestsPerHour,
    },
  ];
}

export interface Goal {
  name: string;
  goal: string;
  value: string;
  previous: string;
  met: boolean;
}

export function goals(h: Headline, previous: Headline | null): Goal[] {
  const prev = (f: (p: Headline) => string): string => (previous ? f(previous) : '—');
  return [
    {
      // The issue's own definition: from the relay accepting the callback (its 200) to the action seeing it.
      name: 'Wake latency p99, 1,000 gates waiting (callback accepted → seen)',
      goal: `< ${GOALS.wakeP99Ms} ms`,
      value: ms(h.wakeP99At1000FromAccepted),
      previous: prev((p) => ms(p.wakeP99At1000FromAccepted)),
      met: h.wakeP99At1000FromAccepted < GOALS.wakeP99Ms,
    },
    {
      // Stricter: also counts the callback's own trip through wrangler dev's two proxy layers.
      name: 'Wake latency p99, 1,000 gates waiting (callback sent → seen)',
      goal: `< ${GOALS.wakeP99Ms} ms`,
      value: ms(h.wakeP99At1000),
      previous: prev((p) => ms(p.wakeP99At1000)),
      met: h.wakeP99At1000 < GOALS.wakeP99Ms,
    },
    {
      name: 'Callbacks/s with 1,000 waiting ÷ trivial Worker',
      goal: `≥ ${GOALS.ratio}`,
      value: num(h.ratio, 2),
      previous: prev((p) => num(p.ratio, 2)),
      met: h.ratio >= GOALS.ratio,
    },
    {
      name: 'Action cold start p50 (spawn → first relay request)',
      goal: `< ${GOALS.coldStartMs} ms`,
      value: ms(h.coldStartP50),
      previous: prev((p) => ms(p.coldStartP50)),
      met: h.coldStartP50 < GOALS.coldStartMs,
    },
    {
      name: 'Size of dist/',
      goal: '< 2 MB',
      value: `${num(h.distBytes / 1000)} KB`,
      previous: prev((p) => `${num(p.distBytes / 1000)} KB`),
      met: h.distBytes < GOALS.distBytes,
    },
    ...parkGoals(h, previous),
  ];
}

export function gatesLabel(count: number): string {
  return `${num(count)} gate${count === 1 ? '' : 's'} waiting`;
}

export function layoutLabel(row: WakeRow): string {
  if (row.layout === 'one-run') {
    // A run holds at most MAX_GATES_PER_RUN gates: more fill the next run's Durable Object.
    const runs = Math.ceil((row.mostWaiting + 1) / MAX_GATES_PER_RUN);
    if (row.gates === 1) return '1 run';
    return runs === 1 ? '1 run (1 Durable Object)' : `${runs} runs of at most ${num(MAX_GATES_PER_RUN)} gates (${runs} Durable Objects)`;
  }
  return `1 run per gate (${num(row.mostWaiting + 1)} Durable Objects)`;
}

export function waitingRange(row: WakeRow): string {
  return row.mostWaiting === row.gates ? num(row.gates) : `${num(row.gates)}–${num(row.mostWaiting)}`;
}

/** Plain-text table for the terminal. */
export function textReport(results: BenchResults, previous: Headline | null): string {
  const h = headline(results);
  const m = results.machine;
  const lines: string[] = [];
  const rule = '─'.repeat(100);
  lines.push(rule);
  lines.push(`hookgate bench · ${results.date} · ${m.cpu} ×${m.cores}, ${num(m.ramGiB, 1)} GiB · Node ${m.node} · wrangler ${m.wrangler} · workerd ${m.workerd}`);
  lines.push(`other processes used ${num(results.load.othersCores, 2)} cores on average (peak ${num(results.load.othersPeakCores, 2)}) during the ${num(results.seconds)} s run`);
  lines.push(rule);
  lines.push('1. Wake latency: callback sent → the action\'s waitForDecision resolves (and from the callback\'s 200)');
  for (const row of results.wake) {
    lines.push(
      `   ${gatesLabel(row.gates).padEnd(20)} | p50 ${ms(row.fromSend.p50).padStart(9)} | p90 ${ms(row.fromSend.p90).padStart(9)} | p99 ${ms(row.fromSend.p99).padStart(9)} | max ${ms(row.fromSend.max).padStart(10)} | from 200: p50 ${ms(row.fromAccepted.p50)}, p99 ${ms(row.fromAccepted.p99)} | ${row.fromSend.count} samples, ${layoutLabel(row)}`,
    );
  }
  lines.push(`   request floor: trivial Worker GET p50 ${ms(results.roundTrip.trivial.p50)}, relay /healthz p50 ${ms(results.roundTrip.relayHealth.p50)} (sequential, through wrangler dev)`);
  const t = results.throughput;
  lines.push('2. Callback throughput, ' + `${num(t.waiting)} gates waiting, ${t.inFlight} requests in flight`);
  lines.push(`   relay callbacks      ${num(t.relay.perSecond, 1).padStart(8)} /s   (workerd CPU ${num(t.relay.workerdCpuMsPerRequest, 1)} ms per callback, ${num(t.relay.requests)} callbacks, ${t.relay.errors} errors)`);
  lines.push(`   trivial Worker       ${num(t.trivial.perSecond, 1).padStart(8)} /s   (workerd CPU ${num(t.trivial.workerdCpuMsPerRequest, 1)} ms per request, ${num(t.trivial.requests)} requests, ${t.trivial.errors} errors)`);
  lines.push(`   ratio                ${num(t.ratio, 2).padStart(8)}`);
  const c = results.coldStart;
  lines.push(`3. Cold start, spawn → first relay request (${c.firstRequest}), ${c.runs} runs`);
  lines.push(`   node dist/index.js   p50 ${ms(c.action.p50)}, max ${ms(c.action.max)}`);
  lines.push(`   node -e "fetch(…)"   p50 ${ms(c.nodeFloor.p50)}, max ${ms(c.nodeFloor.max)}   (Node's own floor)`);
  lines.push(`   dist/                ${num(results.dist.totalBytes / 1000, 1)} KB: ${results.dist.files.map((f) => `${f.path} ${num(f.bytes / 1000, 1)} KB`).join(', ')}`);
  const cost = results.cost;
  const longBill = hourlyBill(cost.longPoll.perHour.requests, cost.longPoll.perHour.heldSeconds);
  const pollBill = hourlyBill(cost.poller.perHour.requests, cost.poller.perHour.heldSeconds);
  lines.push(`4. Cost of one hour of waiting on one gate (measured over ${num(cost.countedSeconds)} s, scaled)`);
  lines.push(
    `   action long-poll     ${num(cost.longPoll.perHour.requests).padStart(5)} requests/h, relay held open ${num(cost.longPoll.perHour.heldSeconds)} s/h → ${num(longBill.gbSeconds, 1)} GB-s/h, $${longBill.dollars.toFixed(5)}/h; decision seen after ${ms(cost.longPoll.seenAfterMs)}`,
  );
  lines.push(
    `   ${POLLER_INTERVAL_SECONDS} s poller        ${num(cost.poller.perHour.requests).padStart(5)} requests/h, relay held open ${num(cost.poller.perHour.heldSeconds, 1)} s/h → ${num(pollBill.gbSeconds, 1)} GB-s/h, $${pollBill.dollars.toFixed(5)}/h; decision seen after ${ms(cost.poller.seenAfterMs)}`,
  );
  const e = results.engine;
  lines.push(`5. Engine overhead, ${e.steps} instant webhook steps, median of ${e.runs} runs`);
  lines.push(
    `   total ${ms(e.totalMs)} → ${ms(e.perStepMs)} per step; 1-step run ${ms(e.oneStepMs)} → ${ms(e.marginalPerStepMs)} per further step; steps' own median ${ms(e.reportedStepMs)}`,
  );
  if (results.park) lines.push(...parkLines(results.park));
  lines.push(rule);
  for (const g of goals(h, previous)) {
    lines.push(`${g.met ? 'met   ' : 'MISSED'}  ${g.name.padEnd(55)} ${g.value.padStart(10)}  (goal ${g.goal}; previous run ${g.previous})`);
  }
  lines.push(rule);
  return lines.join('\n');
}

export const RESULTS_MARK = 'bench-headline';
export const FULL_MARK = 'bench-results';

/** The headline figures a previous BENCHMARKS.md recorded, if any. */
export function previousHeadline(markdown: string | null): Headline | null {
  if (!markdown) return null;
  const match = new RegExp(`<!-- ${RESULTS_MARK} (\\{.*\\}) -->`).exec(markdown);
  if (!match?.[1]) return null;
  try {
    return JSON.parse(match[1]) as Headline;
  } catch {
    return null;
  }
}

/** The whole results of the run a BENCHMARKS.md was written from, and its previous run's headline. */
export function recordedResults(markdown: string | null): { results: BenchResults; previous: Headline | null } | null {
  if (!markdown) return null;
  const match = new RegExp(`<!-- ${FULL_MARK} (\\{.*\\}) -->`).exec(markdown);
  if (!match?.[1]) return null;
  try {
    return JSON.parse(match[1]) as { results: BenchResults; previous: Headline | null };
  } catch {
    return null;
  }
}

/** The figures a goal is judged on (the headline BENCHMARKS.md keeps for the next run), and the goals. */
import { num, ms } from './stats.ts';
import type { BenchResults } from './report.ts';
import type { WakeRow } from './wake-latency.ts';

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
  /** What the action can load (runs since issue 14; before: all of dist/). */
  distBytes: number;
  longPollRequestsPerHour: number;
  pollerRequestsPerHour: number;
  engineMsPerStep: number;
  engineMarginalMsPerStep: number;
  /** Last decision → dispatch request at GitHub, p99 (runs since issue 11). */
  parkDispatchP99?: number;
  /** Relay requests per parked hour from the runner (runs since issue 11). */
  parkedRequestsPerHour?: number;
  /** Runs since issue 14: relay requests per further webhook step, and the step's own time beyond them. */
  relayRequestsPerStep?: number;
  ownMsPerStep?: number;
  /** Largest approval page: workerd CPU per render, warm p50 and first render in a fresh isolate p50. */
  pageRenderWarmMs?: number;
  pageRenderColdMs?: number;
  /** The relay under Miniflare directly: wake p99 from the callback's send at 1,000 waiting. */
  miniflareWakeP99At1000?: number;
}

export const GOALS = {
  wakeP99Ms: 50,
  ratio: 0.3,
  coldStartMs: 250,
  distBytes: 1_500_000,
  parkDispatchP99Ms: 1000,
  parkedRequestsPerHour: 0,
  relayRequestsPerStep: 3,
  ownMsPerStep: 5,
  pageRenderMs: 50,
  miniflareWakeP99Ms: 10,
} as const;

export interface Goal {
  name: string;
  goal: string;
  value: string;
  previous: string;
  met: boolean;
}

function wakeAt1000(rows: readonly WakeRow[] | undefined): WakeRow | undefined {
  return rows?.find((row) => row.gates === 1000 && row.layout === 'one-run');
}

export function headline(results: BenchResults): Headline {
  const wake = wakeAt1000(results.wake);
  const split = results.engine.split;
  const page = results.pageRender;
  const mfWake = wakeAt1000(results.miniflare?.wake);
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
    ...(split ? { relayRequestsPerStep: split.relayRequests, ownMsPerStep: split.ownMs } : {}),
    ...(page ? { pageRenderWarmMs: page.warmCpuMs.p50, pageRenderColdMs: page.coldCpuMs.p50 } : {}),
    ...(mfWake ? { miniflareWakeP99At1000: mfWake.fromSend.p99 } : {}),
  };
}

/** A goal row for a figure only some runs measured; none when this run did not. */
function optionalGoal(
  value: number | undefined,
  previous: number | undefined,
  row: { name: string; goal: string; format: (v: number) => string; met: (v: number) => boolean },
): Goal[] {
  if (value === undefined) return [];
  return [{ name: row.name, goal: row.goal, value: row.format(value), previous: previous === undefined ? '—' : row.format(previous), met: row.met(value) }];
}

/** The goals issues 11 and 14 added, when the run measured them. */
function laterGoals(h: Headline, p: Headline | null): Goal[] {
  const kb = (v: number): string => `${num(v)} ms`;
  return [
    ...optionalGoal(h.parkDispatchP99, p?.parkDispatchP99, {
      name: 'Park: last decision → dispatch request at GitHub, p99',
      goal: `< ${num(GOALS.parkDispatchP99Ms)} ms`,
      format: ms,
      met: (v) => v < GOALS.parkDispatchP99Ms,
    }),
    ...optionalGoal(h.parkedRequestsPerHour, p?.parkedRequestsPerHour, {
      name: 'Park: relay requests per parked hour from the runner',
      goal: `${GOALS.parkedRequestsPerHour}`,
      format: (v) => num(v),
      met: (v) => v <= GOALS.parkedRequestsPerHour,
    }),
    ...optionalGoal(h.relayRequestsPerStep, p?.relayRequestsPerStep, {
      name: 'Relay requests per webhook step (register, wait, callback)',
      goal: `≤ ${GOALS.relayRequestsPerStep}`,
      format: (v) => num(v, 1),
      met: (v) => v <= GOALS.relayRequestsPerStep,
    }),
    ...optionalGoal(h.ownMsPerStep, p?.ownMsPerStep, {
      name: "hookgate's own time per webhook step, beyond its requests",
      goal: `< ${GOALS.ownMsPerStep} ms`,
      format: ms,
      met: (v) => v < GOALS.ownMsPerStep,
    }),
    ...optionalGoal(h.pageRenderWarmMs, p?.pageRenderWarmMs, {
      name: 'Approval page, largest allowed: render CPU in workerd (warm, p50)',
      goal: `< ${GOALS.pageRenderMs} ms`,
      format: kb,
      met: (v) => v < GOALS.pageRenderMs,
    }),
    ...optionalGoal(h.pageRenderColdMs, p?.pageRenderColdMs, {
      name: 'Approval page, largest allowed: first render in a fresh isolate (p50)',
      goal: `< ${GOALS.pageRenderMs} ms`,
      format: kb,
      met: (v) => v < GOALS.pageRenderMs,
    }),
    ...optionalGoal(h.miniflareWakeP99At1000, p?.miniflareWakeP99At1000, {
      name: 'Miniflare directly: wake p99, 1,000 waiting (callback sent → seen)',
      goal: `< ${GOALS.miniflareWakeP99Ms} ms`,
      format: ms,
      met: (v) => v < GOALS.miniflareWakeP99Ms,
    }),
  ];
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
      name: 'Size of what the action loads (dist/ without the CLI)',
      goal: `< ${num(GOALS.distBytes / 1_000_000, 1)} MB`,
      value: `${num(h.distBytes / 1000)} KB`,
      previous: prev((p) => `${num(p.distBytes / 1000)} KB`),
      met: h.distBytes < GOALS.distBytes,
    },
    ...laterGoals(h, previous),
  ];
}

/** What each chaos cycle observed, and the counts and distributions the report shows (pure). */
import { distribution } from '../stats.ts';
import type { Distribution } from '../stats.ts';
import type { Restart } from './restartable-relay.ts';

/** When a waiter (the action's `waitForDecision`) saw its gate decided. */
export type WaiterSeen = 'before-kill' | 'after-restart' | 'never' | 'wrong-decision';

export interface GateObservation {
  /** The callback's HTTP status, or null when it got no answer (the kill reset its connection or refused it). */
  status: number | null;
  /** The gate read back right after the restart, before any retry: decided as the callback said. */
  storedAfterRestart: boolean;
  /** Sends of the callback after the restart until one was answered 2xx (0: it was acknowledged before the kill). */
  retries: number;
  /** After those retries, the gate read back decided as the callback said; null when no retry was needed. */
  storedAfterRetry: boolean | null;
  waiter: WaiterSeen;
  /** Restart's spawn → the waiter resolved, ms; null unless it saw its decision after the restart. */
  waiterAfterSpawnMs: number | null;
}

export interface GateCycle {
  gates: GateObservation[];
  /** First callback sent → SIGKILL, ms (uniform over the sending window). */
  killAtMs: number;
  restart: Restart;
}

export interface GateChaos {
  cycles: number;
  gatesPerCycle: number;
  runsPerCycle: number;
  /** First callback sent → last one answered with no kill (median of the calibration rounds), ms. */
  windowMs: number;
  gates: number;
  acknowledged: number;
  /** Acknowledged (2xx) before the kill, yet not stored after the restart (goal 0). */
  lost: number;
  unacknowledged: number;
  /** Unacknowledged callbacks that the relay had nevertheless stored (the kill came after the write). */
  storedWithoutAnswer: number;
  /** Unacknowledged callbacks that a retry after the restart then stored. */
  retriedThenStored: number;
  /** Unacknowledged callbacks still not stored after the retry's 2xx (goal 0). */
  retriedNotStored: number;
  waitersBeforeKill: number;
  waitersAfterRestart: number;
  /** Waiters that never saw a decision, or saw a different one (goal 0). */
  waitersMissed: number;
  killAt: Distribution;
  killed: Distribution;
  firstAnswer: Distribution;
  ready: Distribution;
  /** Spawn → each waiter that saw its decision after the restart. */
  waiterSeen: Distribution;
  /** Starts of `wrangler dev` that failed and were tried again, with why. */
  failedStarts: string[];
}

export function tallyGateCycles(cycles: readonly GateCycle[], shape: { gatesPerCycle: number; runsPerCycle: number; windowMs: number }): GateChaos {
  const gates = cycles.flatMap((c) => c.gates);
  const acked = gates.filter((g) => g.status !== null && g.status >= 200 && g.status < 300);
  const unacked = gates.filter((g) => !acked.includes(g));
  return {
    cycles: cycles.length,
    ...shape,
    gates: gates.length,
    acknowledged: acked.length,
    lost: acked.filter((g) => !g.storedAfterRestart).length,
    unacknowledged: unacked.length,
    storedWithoutAnswer: unacked.filter((g) => g.storedAfterRestart).length,
    retriedThenStored: unacked.filter((g) => !g.storedAfterRestart && g.storedAfterRetry === true).length,
    retriedNotStored: unacked.filter((g) => g.storedAfterRetry === false).length,
    waitersBeforeKill: gates.filter((g) => g.waiter === 'before-kill').length,
    waitersAfterRestart: gates.filter((g) => g.waiter === 'after-restart').length,
    waitersMissed: gates.filter((g) => g.waiter === 'never' || g.waiter === 'wrong-decision').length,
    killAt: distribution(cycles.map((c) => c.killAtMs)),
    killed: distribution(cycles.map((c) => c.restart.killedMs)),
    firstAnswer: distribution(cycles.map((c) => c.restart.firstAnswerMs)),
    ready: distribution(cycles.map((c) => c.restart.readyMs)),
    waiterSeen: distribution(gates.flatMap((g) => (g.waiterAfterSpawnMs === null ? [] : [g.waiterAfterSpawnMs]))),
    failedStarts: cycles.flatMap((c) => c.restart.failedStarts),
  };
}

/** Where the kill fell in a parked cycle, against the last decision's 200. */
export type KillMoment = 'before-200' | 'after-200';

export interface ParkedCycle {
  /** Where the kill was aimed; `offsetMs` says where it landed. */
  aimed: KillMoment;
  /** SIGKILL − the last callback's 200, ms (negative: before the 200); null when that callback got no answer. */
  offsetMs: number | null;
  /** The last callback's status before the kill; null for no answer (it was then retried after the restart). */
  status: number | null;
  /** Dispatches for this run at the fake GitHub that arrived before the kill. */
  dispatchedBeforeKill: number;
  /** Dispatches for this run at the fake GitHub at the end of the chaos run (goal: exactly 1). */
  dispatches: number;
  /** Each of those dispatches' arrival at the fake GitHub minus the kill, ms (negative: before the kill). */
  dispatchVsKillMs: number[];
  /** Restart's spawn → the dispatch at the fake GitHub, ms; null when it came before the kill or never. */
  resumeAfterSpawnMs: number | null;
  restart: Restart;
}

export interface ParkedChaos {
  cycles: number;
  killsBefore200: number;
  killsAfter200: number;
  /** Last callbacks that got no answer and were retried after the restart. */
  retried: number;
  dispatchedBeforeKill: number;
  /** Killed after the last decision's 200 and before its dispatch reached GitHub: the window the resume must survive. */
  betweenDecisionAndDispatch: number;
  exactlyOnce: number;
  lost: number;
  duplicated: number;
  /** Dispatches beyond the first, summed (0 when none is duplicated). */
  extraDispatches: number;
  offsetAfter200: Distribution;
  /** The duplicated runs: where the kill fell after the 200 and when each dispatch arrived against the kill. */
  duplicates: { offsetMs: number | null; dispatchVsKillMs: number[] }[];
  firstAnswer: Distribution;
  resumeAfterSpawn: Distribution;
  failedStarts: string[];
}

export function tallyParkedCycles(cycles: readonly ParkedCycle[]): ParkedChaos {
  const before = cycles.filter((c) => c.offsetMs === null || c.offsetMs < 0);
  return {
    cycles: cycles.length,
    killsBefore200: before.length,
    killsAfter200: cycles.length - before.length,
    retried: cycles.filter((c) => c.status === null || c.status < 200 || c.status >= 300).length,
    dispatchedBeforeKill: cycles.filter((c) => c.dispatchedBeforeKill > 0).length,
    betweenDecisionAndDispatch: cycles.filter((c) => c.offsetMs !== null && c.offsetMs >= 0 && c.status !== null && c.status < 300 && c.dispatchedBeforeKill === 0).length,
    exactlyOnce: cycles.filter((c) => c.dispatches === 1).length,
    lost: cycles.filter((c) => c.dispatches === 0).length,
    duplicated: cycles.filter((c) => c.dispatches > 1).length,
    extraDispatches: cycles.reduce((sum, c) => sum + Math.max(0, c.dispatches - 1), 0),
    duplicates: cycles.filter((c) => c.dispatches > 1).map((c) => ({ offsetMs: c.offsetMs, dispatchVsKillMs: c.dispatchVsKillMs })),
    offsetAfter200: distribution(cycles.flatMap((c) => (c.offsetMs !== null && c.offsetMs >= 0 ? [c.offsetMs] : []))),
    firstAnswer: distribution(cycles.map((c) => c.restart.firstAnswerMs)),
    resumeAfterSpawn: distribution(cycles.flatMap((c) => (c.resumeAfterSpawnMs === null ? [] : [c.resumeAfterSpawnMs]))),
    failedStarts: cycles.flatMap((c) => c.restart.failedStarts),
  };
}

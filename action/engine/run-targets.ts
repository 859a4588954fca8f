/** Runs a plan's targets: each as soon as its dependencies succeeded, in parallel. */
import { schedule } from './outcomes.ts';
import type { Schedule } from './outcomes.ts';
import type { Plan } from '../plan/plan.ts';
import type { RunReport, TargetOutcome, TargetReport } from './report.ts';
import { worstOutcome } from './report.ts';
import { runTarget } from './target.ts';
import { isParking } from './parking.ts';
import type { DeploymentEffects, GateMode } from './effects.ts';

/**
 * Runs every target of the plan; resolves with the report whatever happens.
 * Dependencies outside the plan are other jobs' targets: their outcomes come from the relay.
 */
export async function runDeployment(
  plan: Plan,
  deploymentId: string,
  fx: DeploymentEffects,
  signal: AbortSignal,
  mode: GateMode | null = null,
): Promise<RunReport> {
  const reports = new Map<string, TargetReport>();
  const outcomes = new Map<string, TargetOutcome>();
  const reasons = new Map<string, string>();
  const running = new Map<string, Promise<void>>();
  const statuses: Promise<void>[] = [];

  const planned = new Set(plan.targets.map((t) => t.name));
  const external = [...new Set(plan.targets.flatMap((t) => t.dependsOn))].filter((d) => !planned.has(d));
  // In afterDeployment gate mode the target is deployed already: its dependencies were checked before.
  if (mode === 'afterDeployment') for (const name of external) outcomes.set(name, 'succeeded');
  else await waitForUpstream(external, fx, signal, outcomes, reasons);

  for (;;) {
    const next = startNothingOnceAborted(schedule(plan.targets, outcomes, new Set(running.keys()), reasons), signal);
    for (const { target, reason, outcome } of next.cancel) {
      const message = `${target} ${outcome}: ${reason}`;
      const plannedTarget = plan.targets.find((t) => t.name === target);
      if (plannedTarget) fx.log(plannedTarget, message);
      reports.set(target, { target, outcome, message, steps: [], start: null, end: null });
      outcomes.set(target, outcome);
      // Not awaited here: between computing the schedule and waiting on the running targets nothing
      // may yield, or a target finishing meanwhile would go unnoticed. fx.status never rejects.
      // A parked target is not over: no record, it stays as the parked run left it.
      if (plannedTarget && outcome === 'canceled') statuses.push(fx.status(plannedTarget, 'canceled', message));
    }
    for (const name of next.start) {
      const target = plan.targets.find((t) => t.name === name);
      if (!target) continue;
      const kept = fx.kept?.(target) ?? null;
      if (kept) {
        // Ended in the parked attempt this job continues: its outcome stands, nothing runs again.
        reports.set(name, kept);
        outcomes.set(name, kept.outcome);
        continue;
      }
      running.set(
        name,
        runTarget(target, fx, signal, mode).then((report) => {
          reports.set(name, report);
          outcomes.set(name, report.outcome);
          running.delete(name);
        }),
      );
    }
    if (running.size === 0) {
      // A kept target may let others start: schedule again until nothing changes.
      if (next.start.length > 0) continue;
      break;
    }
    await Promise.race(running.values());
  }

  await Promise.all(statuses);
  const never = (name: string): TargetReport => ({ target: name, outcome: 'canceled', message: `${name} canceled: its dependencies never finished`, steps: [], start: null, end: null });
  const targets = plan.targets.map((t) => reports.get(t.name) ?? never(t.name));
  return {
    deploymentId,
    application: plan.application,
    result: worstOutcome(targets.map((t) => t.outcome)),
    targets,
  };
}

/**
 * SPEC §5: once the run is canceled nothing new starts; what never started ends canceled.
 * SPEC §9: once the job parks, what never started ends parked: a resumed run starts it.
 */
function startNothingOnceAborted(next: Schedule, signal: AbortSignal): Schedule {
  if (!signal.aborted) return next;
  const parking = isParking(signal.reason);
  const reason = parking ? 'the job parked before it started' : 'the run was canceled';
  const outcome = parking ? ('parked' as const) : ('canceled' as const);
  return { start: [], cancel: [...next.cancel, ...next.start.map((target) => ({ target, reason, outcome }))] };
}

/**
 * Waits for every upstream target other jobs deploy at once, into `outcomes` and
 * `reasons`. The first that did not succeed ends the wait: the others' waits are
 * aborted and left unknown, so the cancel reason names the one that failed.
 */
async function waitForUpstream(
  names: readonly string[],
  fx: DeploymentEffects,
  signal: AbortSignal,
  outcomes: Map<string, TargetOutcome>,
  reasons: Map<string, string>,
): Promise<void> {
  if (names.length === 0) return;
  const waits = new AbortController();
  const onAbort = (): void => waits.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(
      names.map(async (name) => {
        const upstream = await fx.upstream(name, waits.signal);
        // A wait aborted because a sibling failed says nothing about its target; one aborted with the run does.
        if (waits.signal.aborted && !signal.aborted) return;
        outcomes.set(name, upstream.outcome);
        if (upstream.message) reasons.set(name, upstream.message);
        if (upstream.outcome !== 'succeeded') waits.abort(new Error(`upstream target ${name} ${upstream.outcome}`));
      }),
    );
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

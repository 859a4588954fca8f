/** Runs a plan's targets: each as soon as its dependencies succeeded, in parallel. */
import { schedule } from './outcomes.ts';
import type { Plan } from '../plan/plan.ts';
import type { RunReport, TargetOutcome, TargetReport } from './report.ts';
import { worstOutcome } from './report.ts';
import { runTarget } from './target.ts';
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
    const next = schedule(plan.targets, outcomes, new Set(running.keys()), reasons);
    if (signal.aborted) {
      // SPEC §5: once the run is canceled nothing new starts; what never started ends canceled.
      next.cancel.push(...next.start.map((target) => ({ target, reason: 'the run was canceled' })));
      next.start = [];
    }
    for (const { target, reason } of next.cancel) {
      const message = `${target} canceled: ${reason}`;
      const plannedTarget = plan.targets.find((t) => t.name === target);
      if (plannedTarget) fx.log(plannedTarget, message);
      reports.set(target, { target, outcome: 'canceled', message, steps: [], start: null, end: null });
      outcomes.set(target, 'canceled');
      // Not awaited here: between computing the schedule and waiting on the running targets nothing
      // may yield, or a target finishing meanwhile would go unnoticed. fx.status never rejects.
      if (plannedTarget) statuses.push(fx.status(plannedTarget, 'canceled', message));
    }
    for (const name of next.start) {
      const target = plan.targets.find((t) => t.name === name);
      if (!target) continue;
      running.set(
        name,
        runTarget(target, fx, signal, mode).then((report) => {
          reports.set(name, report);
          outcomes.set(name, report.outcome);
          running.delete(name);
        }),
      );
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

  await Promise.all(statuses);
  const targets = plan.targets.map(
    (t) =>
      reports.get(t.name) ?? {
        target: t.name,
        outcome: 'canceled' as const,
        message: `${t.name} canceled: its dependencies never finished`,
        steps: [],
        start: null,
        end: null,
      },
  );
  return {
    deploymentId,
    application: plan.application,
    result: worstOutcome(targets.map((t) => t.outcome)),
    targets,
  };
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

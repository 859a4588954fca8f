/** Runs a plan's targets: each as soon as its dependencies succeeded, in parallel. */
import { schedule } from './engine.ts';
import type { Plan } from './plan.ts';
import type { RunReport, TargetOutcome, TargetReport } from './report.ts';
import { worstOutcome } from './report.ts';
import { runTarget } from './target-runner.ts';
import type { TargetEffects } from './target-runner.ts';

/** Runs every target of the plan; resolves with the report whatever happens. */
export async function runDeployment(
  plan: Plan,
  deploymentId: string,
  fx: TargetEffects,
  signal: AbortSignal,
): Promise<RunReport> {
  const reports = new Map<string, TargetReport>();
  const outcomes = new Map<string, TargetOutcome>();
  const running = new Map<string, Promise<void>>();

  for (;;) {
    const next = schedule(plan.targets, outcomes, new Set(running.keys()));
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
    }
    for (const name of next.start) {
      const target = plan.targets.find((t) => t.name === name);
      if (!target) continue;
      running.set(
        name,
        runTarget(target, fx, signal).then((report) => {
          reports.set(name, report);
          outcomes.set(name, report.outcome);
          running.delete(name);
        }),
      );
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

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

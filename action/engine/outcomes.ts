/**
 * The deployment's decisions, as pure functions of the plan and what happened so
 * far: which targets start, which are canceled, and what a failure means.
 */
import type { TargetPlan } from '../plan/plan.ts';
import type { StepPhase, TargetOutcome } from './report.ts';

export interface Schedule {
  /** Targets whose dependencies all succeeded: they may start now, in parallel. */
  start: string[];
  /** Targets that can never run, with the reason naming the upstream target. */
  cancel: { target: string; reason: string }[];
}

/**
 * What may start and what must be canceled, given finished and running targets;
 * `reasons` explains an upstream target's failure in the cancel reason.
 */
export function schedule(
  targets: readonly TargetPlan[],
  finished: ReadonlyMap<string, TargetOutcome>,
  running: ReadonlySet<string>,
  reasons: ReadonlyMap<string, string> = new Map(),
): Schedule {
  const result: Schedule = { start: [], cancel: [] };
  // A cancellation decided in this pass counts for later targets in the same pass,
  // so a whole downstream chain is canceled at once (targets are topologically sorted).
  const known = new Map(finished);
  for (const target of targets) {
    if (known.has(target.name) || running.has(target.name)) continue;
    const blocker = target.dependsOn.find((dep) => {
      const outcome = known.get(dep);
      return outcome !== undefined && outcome !== 'succeeded';
    });
    if (blocker !== undefined) {
      const outcome = known.get(blocker);
      const why = reasons.get(blocker);
      result.cancel.push({ target: target.name, reason: `upstream target ${blocker} ${describeOutcome(outcome)}${why ? ` (${why})` : ''}` });
      known.set(target.name, 'canceled');
    } else if (target.dependsOn.every((dep) => known.get(dep) === 'succeeded')) {
      result.start.push(target.name);
    }
  }
  return result;
}

function describeOutcome(outcome: TargetOutcome | undefined): string {
  switch (outcome) {
    case 'failed':
      return 'failed';
    case 'rolled-back':
      return 'was rolled back';
    case 'canceled':
      return 'was canceled';
    default:
      return 'did not succeed';
  }
}

/**
 * What a failed step means (SPEC §2): before the deploy nothing was changed, so
 * the target just fails; during deploy and strategy the change is undone; after
 * the deploy the environment is kept and only its dependents are canceled.
 */
export function onStepFailure(phase: StepPhase): 'fail' | 'rollback' {
  return phase === 'deploy' || phase === 'strategy' ? 'rollback' : 'fail';
}

/** The target's outcome after a rollback ran. */
export function outcomeAfterRollback(rollbackSucceeded: boolean): TargetOutcome {
  return rollbackSucceeded ? 'rolled-back' : 'failed';
}

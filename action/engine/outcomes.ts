/**
 * The deployment's decisions, as pure functions of the plan and what happened so
 * far: which targets start, which are canceled, and what a failure means.
 */
import type { TargetPlan } from '../plan/plan.ts';
import type { GateMode } from './effects.ts';
import type { FinalOutcome, StepPhase, StepReport, TargetOutcome } from './report.ts';
import { errorMessage } from '../lib/errors.ts';
import { isParking } from './parking.ts';

export interface Schedule {
  /** Targets whose dependencies all succeeded: they may start now, in parallel. */
  start: string[];
  /**
   * Targets that cannot run now, with the reason naming the upstream target: `canceled` for good,
   * or `parked` behind a parked upstream target (a resumed run starts them).
   */
  cancel: { target: string; reason: string; outcome: 'canceled' | 'parked' }[];
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
    const blocked = (dep: string, parked: boolean): boolean => {
      const outcome = known.get(dep);
      return outcome !== undefined && outcome !== 'succeeded' && (outcome === 'parked') === parked;
    };
    // A failed upstream target decides for good; a parked one only for now.
    const blocker = target.dependsOn.find((dep) => blocked(dep, false)) ?? target.dependsOn.find((dep) => blocked(dep, true));
    if (blocker !== undefined) {
      const outcome = known.get(blocker);
      const why = reasons.get(blocker);
      const ends = outcome === 'parked' ? 'parked' : 'canceled';
      result.cancel.push({ target: target.name, reason: `upstream target ${blocker} ${describeOutcome(outcome)}${why ? ` (${why})` : ''}`, outcome: ends });
      known.set(target.name, ends);
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
    case 'parked':
      return 'is parked';
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


/** How a target ended, and whether the environment is in an unknown state (its rollback failed too). */
export interface Ending {
  outcome: TargetOutcome;
  message: string;
  rollbackFailed?: boolean;
}

/** "webhook Tests failed: 3 tests failed" */
export function describeFailure(step: Pick<StepReport, 'kind' | 'name' | 'state' | 'message'>): string {
  const state = step.state === 'timed-out' ? 'timed out' : step.state;
  return `${step.kind} ${step.name} ${state}${step.message ? `: ${step.message}` : ''}`;
}

/** The end of a target whose step of `phase` failed (`why`) where no rollback runs (onStepFailure 'fail'). */
export function failedEnding(target: string, phase: StepPhase, why: string): Ending {
  const what = phase === 'beforeDeployment' ? 'not deployed' : 'kept as deployed; its dependents are canceled';
  return { outcome: 'failed', message: `${target} ${what}: ${phase} ${why}` };
}

/** The end of a target whose step of `phase` failed (`why`) once its rollback ran. */
export function rollbackEnding(target: string, phase: StepPhase, why: string, rollbackSucceeded: boolean): Ending {
  // A failed rollback leaves neither version known to run: the target failed.
  if (!rollbackSucceeded) return { outcome: 'failed', message: `${target} failed, and so did its rollback: ${phase} ${why}`, rollbackFailed: true };
  return { outcome: 'rolled-back', message: `${target} rolled back: ${phase} ${why}`, rollbackFailed: false };
}

/**
 * The run was canceled (the job got SIGINT/SIGTERM) during `phase`: the target ends
 * `canceled` and no rollback runs — the runner kills the step seconds later, and a
 * rollback cut short would leave less known than the deploy it interrupted.
 */
export function canceledEnding(target: string, phase: StepPhase, reason: string): Ending {
  const state =
    phase === 'beforeDeployment'
      ? 'nothing was deployed'
      : phase === 'afterDeployment'
        ? 'it stays as deployed'
        : 'no rollback ran, so it may be partly deployed';
  return { outcome: 'canceled', message: `${target} canceled during ${phase} (${reason}): ${state}` };
}

/**
 * The job parked during `phase` (SPEC §9): the target ends `parked`, its gates stay pending at
 * the relay and nothing is rolled back; a resumed run continues where it stopped.
 */
export function parkedEnding(target: string, phase: StepPhase): Ending {
  return { outcome: 'parked', message: `${target} parked during ${phase}: its gates wait at the relay, and a resumed run continues it` };
}

/** The end of a target whose step failed while the run's signal was aborted: parked or canceled, by the abort's reason. */
export function abortedEnding(target: string, phase: StepPhase, reason: unknown): Ending {
  return isParking(reason) ? parkedEnding(target, phase) : canceledEnding(target, phase, errorMessage(reason));
}

/** The end of a gate-mode step: its list passed (`why` null) or a gate failed (`why`). */
export function gateModeEnding(target: string, mode: GateMode, why: string | null): Ending {
  if (why === null) {
    const next = mode === 'beforeDeployment' ? 'the deployment may proceed' : 'the target is deployed';
    return { outcome: 'succeeded', message: `${target} passed its ${mode} gates: ${next}` };
  }
  const what = mode === 'beforeDeployment' ? 'must not be deployed' : 'failed its afterDeployment gates; its dependents are canceled';
  return { outcome: 'failed', message: `${target} ${what}: ${mode} ${why}` };
}

/**
 * Whether the step records its target's outcome as final: after passing its
 * beforeDeployment gates in gate mode the target is still being deployed by the
 * user's own steps, so it stays `running` (the post step closes it).
 */
export function recordsOutcome(mode: GateMode | null, outcome: TargetOutcome): outcome is FinalOutcome {
  // A parked target is not over: it stays `running` at the relay and `in_progress` on GitHub.
  return outcome !== 'parked' && !(mode === 'beforeDeployment' && outcome === 'succeeded');
}

/** SPEC §2: after a canary's last step the weight is 100; the weight still to set, or null. */
export function finalCanaryWeight(weight: number): number | null {
  return weight === 100 ? null : 100;
}

/**
 * What the post step of a beforeDeployment gate step records for a target its job
 * left `running` (its gates passed). With afterDeployment constraints in the file,
 * the afterDeployment step should have recorded the outcome: the job ended between
 * the two steps, so the target failed. Without any, no afterDeployment step will
 * come and the job's end is the target's end; the post step cannot see whether the
 * user's own deploy steps failed (a `phase: afterDeployment` step after them can).
 */
export function endOfGateModeJob(target: string, hasAfterDeployment: boolean): { outcome: 'succeeded' | 'failed'; message: string } {
  return hasAfterDeployment
    ? {
        outcome: 'failed',
        message: `${target} failed: the job ended before its afterDeployment gates ran (a step after the beforeDeployment gates failed or was skipped)`,
      }
    : { outcome: 'succeeded', message: `${target} succeeded: its beforeDeployment gates passed and it has no afterDeployment gates` };
}

/** What a run produced: the `report` output and the source of the job summary. */

export type StepKind = 'webhook' | 'pause' | 'approval' | 'command';
export type StepPhase = 'beforeDeployment' | 'deploy' | 'strategy' | 'afterDeployment' | 'rollback';
export type StepState = 'succeeded' | 'failed' | 'timed-out' | 'canceled' | 'skipped';
export type TargetOutcome = 'succeeded' | 'rolled-back' | 'failed' | 'canceled';

export interface StepReport {
  kind: StepKind;
  name: string;
  phase: StepPhase;
  state: StepState;
  message: string | null;
  /** Interim reports the external system sent while the gate was pending. */
  progress: string[];
  start: string;
  end: string;
}

export interface TargetReport {
  target: string;
  outcome: TargetOutcome;
  /** Why the target ended as it did, in one sentence. */
  message: string;
  steps: StepReport[];
  start: string | null;
  end: string | null;
}

export interface RunReport {
  deploymentId: string;
  application: string;
  result: TargetOutcome;
  targets: TargetReport[];
}

/** Worst first: a run's result is the worst of its targets (SPEC §5). */
const SEVERITY: readonly TargetOutcome[] = ['failed', 'rolled-back', 'canceled', 'succeeded'];

/** The worst outcome; `succeeded` for no targets. */
export function worstOutcome(outcomes: Iterable<TargetOutcome>): TargetOutcome {
  let worst = SEVERITY.length - 1;
  for (const outcome of outcomes) worst = Math.min(worst, SEVERITY.indexOf(outcome));
  return SEVERITY[worst] ?? 'succeeded';
}

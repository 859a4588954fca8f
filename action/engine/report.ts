/** What a run produced: the `report` output and the source of the job summary. */
import type { Outputs } from '../../shared/protocol.ts';

export type StepKind = 'webhook' | 'pause' | 'approval' | 'command';
export type StepPhase = 'beforeDeployment' | 'deploy' | 'strategy' | 'afterDeployment' | 'rollback';
/** `parked`: the job stopped waiting on its runner; the step goes on at the relay and a resumed run continues it. */
export type StepState = 'succeeded' | 'failed' | 'timed-out' | 'canceled' | 'skipped' | 'parked';
/** `parked`: the target waits without a runner (SPEC §9); a resumed run continues it. */
export type TargetOutcome = 'succeeded' | 'rolled-back' | 'failed' | 'canceled' | 'parked';
/** An outcome a target keeps: the relay's record and the journal know no `parked`. */
export type FinalOutcome = Exclude<TargetOutcome, 'parked'>;

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
  /**
   * What the decision handed to later steps (SPEC §11): a webhook's callback `outputs`, a monitor's
   * status, an approval's decision; absent when none. Later steps read `{{outputs.<name>.<key>}}`.
   */
  outputs?: Outputs;
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

/** The `outputs` output: by target, by step name (a webhook's, `approval`), what each decision handed on; a later step of the same name wins. */
export function collectOutputs(report: RunReport): Record<string, Record<string, Outputs>> {
  const all: Record<string, Record<string, Outputs>> = {};
  for (const target of report.targets) {
    const byStep: Record<string, Outputs> = {};
    for (const step of target.steps) if (step.outputs !== undefined) byStep[step.kind === 'approval' ? 'approval' : step.name] = step.outputs;
    if (Object.keys(byStep).length > 0) all[target.target] = byStep;
  }
  return all;
}

/** Worst first: a run's result is the worst of its targets (SPEC §5); a parked target is not done yet, so it outranks success only. */
const SEVERITY: readonly TargetOutcome[] = ['failed', 'rolled-back', 'canceled', 'parked', 'succeeded'];

/** The worst outcome; `succeeded` for no targets. */
export function worstOutcome(outcomes: Iterable<TargetOutcome>): TargetOutcome {
  let worst = SEVERITY.length - 1;
  for (const outcome of outcomes) worst = Math.min(worst, SEVERITY.indexOf(outcome));
  return SEVERITY[worst] ?? 'succeeded';
}

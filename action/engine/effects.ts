/**
 * What the engine asks of the world: gates, commands, the target's record and the
 * clock. The real implementations live in action/effects; tests pass fakes.
 */
import type { Commands, GateItem, TargetPlan } from '../plan/plan.ts';
import type { FinalOutcome, StepPhase, StepReport, TargetOutcome, TargetReport } from './report.ts';

export type GatePhase = 'beforeDeployment' | 'strategy' | 'afterDeployment';
/** Gate mode (input `phase`): only this constraint list runs; the user deploys with their own steps. */
export type GateMode = 'beforeDeployment' | 'afterDeployment';
/**
 * What a job reports of its target for other jobs: the protocol's `TargetStatus`
 * without `unknown`, which only the relay answers for a target nobody reported yet.
 */
export type ReportedStatus = FinalOutcome | 'running';

/** The items run together with a gate, each with its step key: an approval's link is shared with its list. */
export interface GateList {
  items: readonly GateItem[];
  keys: readonly string[];
}

/** What a final status means beyond the outcome: a failed rollback leaves the environment in an unknown state. */
export interface StatusDetail {
  rollbackFailed: boolean;
}

export interface TargetEffects {
  /** Runs one gate item; resolves with its step (never rejects), `canceled` once `signal` aborts. */
  gate(
    target: TargetPlan,
    phase: GatePhase,
    item: GateItem,
    key: string,
    signal: AbortSignal,
    list: GateList,
  ): Promise<StepReport>;
  /**
   * Records the target's status for the jobs of its dependents and on GitHub;
   * never rejects (a failure is a warning).
   */
  status(target: TargetPlan, status: ReportedStatus, message: string, detail?: StatusDetail): Promise<void>;
  /**
   * Runs one of the target's commands; a missing command is a logged no-op that succeeds.
   * Once `signal` aborts, a running command is stopped (SIGTERM) and the step fails.
   * `key` is the step's key in its target (`deploy`, `strategy/2`, `strategy/final`, `rollback`): the journal's.
   */
  command(
    target: TargetPlan,
    command: keyof Commands,
    phase: StepPhase,
    env: Record<string, string>,
    signal: AbortSignal,
    key: string,
  ): Promise<StepReport>;
  /** Tells the story of the target (deployed, rolled back, …). */
  log(target: TargetPlan, message: string): void;
  now(): number;
}

export interface DeploymentEffects extends TargetEffects {
  /**
   * The final outcome of a target another job deploys (one job per environment),
   * waiting while it runs; never rejects, and ends `canceled` once `signal` aborts.
   */
  upstream(target: string, signal: AbortSignal): Promise<{ outcome: TargetOutcome; message: string }>;
  /**
   * A target a parked attempt already ended (this job continues it): its report, kept as it was
   * and never run again; null for a target to run. Absent: none is kept.
   */
  kept?(target: TargetPlan): TargetReport | null;
}

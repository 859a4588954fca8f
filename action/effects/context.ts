/**
 * What every effect module shares, passed explicitly: the plan, the settings, the
 * clients, the log, the clock, and the run's approval registrations.
 */
import type { RegisterGateResponse } from '../../shared/protocol.ts';
import type { GitHubDeployments } from '../clients/github-deployments.ts';
import type { RelayClient } from '../clients/relay.ts';
import type { StepKind, StepPhase, StepReport, StepState } from '../engine/report.ts';
import type { Clock } from '../lib/time.ts';
import type { Log } from '../output/log.ts';
import type { Redact } from '../output/redact.ts';
import type { Plan, TargetPlan } from '../plan/plan.ts';
import { runAttempt, runRef } from '../settings.ts';
import { Journal } from './journal.ts';
import { ParkWatch } from './park-watch.ts';
import type { Settings } from '../settings.ts';

/** What main.ts hands the effects. */
export interface EffectsDeps {
  plan: Plan;
  settings: Settings;
  relay: RelayClient;
  deployments: GitHubDeployments;
  log: Log;
  /** Applied to every text sent to the relay or GitHub: a step's message may quote an external system's answer. */
  redact: Redact;
  clock: Clock;
  /** For webhook calls; default the global fetch. */
  fetch?: typeof fetch;
  /** The attempt the job runs: a continuing job adopts the parked one; default GITHUB_RUN_ATTEMPT. */
  attempt?: number;
  /** When the job parks; default never (no `park-after`). */
  watch?: ParkWatch;
  /** The run's journal; default one that writes nothing and replays nothing. */
  journal?: Journal;
}

export interface EffectsContext extends EffectsDeps {
  /** GITHUB_RUN_ATTEMPT, or the parked attempt a job continues: a re-run gets fresh gates and its own target records. */
  attempt: number;
  watch: ParkWatch;
  journal: Journal;
  /**
   * Approval registrations by `<target>/<step key>`: the approval step and the webhooks
   * of its list (its link in `{{hookgate.approvalUrl}}`) share one gate.
   */
  approvals: Map<string, Promise<RegisterGateResponse>>;
  /** One line of the target's story: `[<target>] <message>`. */
  say(target: TargetPlan, message: string): void;
  /** A step's report, ending now. */
  step(kind: StepKind, name: string, phase: StepPhase, started: number, state: StepState, message: string | null, progress?: string[]): StepReport;
}

/** The context for one run's effects. */
export function createContext(deps: EffectsDeps): EffectsContext {
  const attempt = deps.attempt ?? runAttempt(deps.settings.github);
  const watch = deps.watch ?? new ParkWatch(null, deps.clock);
  const journal =
    deps.journal ??
    new Journal({ ...deps, runId: deps.settings.deploymentId, attempt, run: runRef(deps.settings.github), watch, writes: false, entries: [] });
  return {
    ...deps,
    attempt,
    watch,
    journal,
    approvals: new Map(),
    say: (target, message) => deps.log.info(`[${target.name}] ${message}`),
    step: (kind, name, phase, started, state, message, progress = []) => ({
      kind,
      name,
      phase,
      state,
      message,
      progress,
      start: new Date(started).toISOString(),
      end: new Date(deps.clock.now()).toISOString(),
    }),
  };
}

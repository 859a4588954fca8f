/**
 * What every effect module shares, passed explicitly: the plan, the settings, the
 * clients, the log, the clock, and the run's approval registrations.
 */
import { MAX_GRAPH_TARGETS } from '../../shared/protocol.ts';
import type { GraphTarget, Outputs, RegisterGateResponse } from '../../shared/protocol.ts';
import { truncateCodePoints } from '../../shared/text.ts';
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
  /**
   * Every target of the file, for the run's graph on the approval page: with input `target`
   * main.ts narrows `plan.targets` to that one; default `plan.targets`.
   */
  allTargets?: readonly TargetPlan[];
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
  /** The deployment's targets and their dependsOn (RunInfo.graph); undefined past MAX_GRAPH_TARGETS. */
  graph: GraphTarget[] | undefined;
  /** The target's outputs so far, for its next steps' templates. */
  outputsOf(target: string): ReadonlyMap<string, Outputs>;
  /** Keeps an ended webhook or approval step's outputs (none: an empty set) for the target's later steps. */
  keepOutputs(target: string, step: StepReport): void;
  /** One line of the target's story: `[<target>] <message>`. */
  say(target: TargetPlan, message: string): void;
  /** A step's report, ending now. */
  step(
    kind: StepKind,
    name: string,
    phase: StepPhase,
    started: number,
    state: StepState,
    message: string | null,
    progress?: string[],
    outputs?: Outputs | null,
  ): StepReport;
}

/** The context for one run's effects. */
export function createContext(deps: EffectsDeps): EffectsContext {
  const attempt = deps.attempt ?? runAttempt(deps.settings.github);
  const watch = deps.watch ?? new ParkWatch(null, deps.clock);
  const journal =
    deps.journal ??
    new Journal({ ...deps, runId: deps.settings.deploymentId, attempt, run: runRef(deps.settings.github), watch, writes: false, entries: [] });
  const outputs = new Map<string, Map<string, Outputs>>();
  return {
    ...deps,
    attempt,
    watch,
    journal,
    approvals: new Map(),
    graph: graphOf(deps.allTargets ?? deps.plan.targets),
    outputsOf: (target) => outputs.get(target) ?? new Map(),
    keepOutputs(target, step) {
      if (step.kind !== 'webhook' && step.kind !== 'approval') return;
      if (step.state === 'parked') return;
      const byStep = outputs.get(target) ?? new Map<string, Outputs>();
      byStep.set(outputsKey(step), step.outputs ?? {});
      outputs.set(target, byStep);
    },
    say: (target, message) => deps.log.info(`[${target.name}] ${message}`),
    step: (kind, name, phase, started, state, message, progress = [], handed = null) => ({
      kind,
      name,
      phase,
      state,
      message,
      progress,
      start: new Date(started).toISOString(),
      end: new Date(deps.clock.now()).toISOString(),
      ...(handed ? { outputs: handed } : {}),
    }),
  };
}

/** The name later steps read a step's outputs by: the webhook's, `approval` for any approval (as the `outputs` output keys them). */
export function outputsKey(step: Pick<StepReport, 'kind' | 'name'>): string {
  return step.kind === 'approval' ? 'approval' : step.name;
}

/** The targets as the approval page draws them; none beyond MAX_GRAPH_TARGETS (the page then lists them without the picture). */
function graphOf(targets: readonly TargetPlan[]): GraphTarget[] | undefined {
  if (targets.length === 0 || targets.length > MAX_GRAPH_TARGETS) return undefined;
  // The protocol's bounds (200 characters a name, 50 dependencies) are the file's too; cut, never refused, if a file passed them.
  const name = (text: string): string => truncateCodePoints(text, 200);
  return targets.map((t) => ({ name: name(t.name), dependsOn: t.dependsOn.slice(0, 50).map(name) }));
}

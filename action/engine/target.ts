/**
 * One target's phases in order: beforeDeployment → deploy → strategy →
 * afterDeployment. Effects (gates, commands) are passed in; what a failure
 * means comes from the engine.
 */
import { onStepFailure, outcomeAfterRollback } from './outcomes.ts';
import type { Commands, GateItem, TargetPlan } from '../plan/plan.ts';
import type { StepPhase, StepReport, TargetOutcome, TargetReport } from './report.ts';

export type GatePhase = 'beforeDeployment' | 'strategy' | 'afterDeployment';
/** Gate mode (input `phase`): only this constraint list runs; the user deploys with their own steps. */
export type GateMode = 'beforeDeployment' | 'afterDeployment';
/** A target's status as the run records it for other jobs. */
export type TargetStatus = TargetOutcome | 'running';

/** The items run together with a gate, each with its step key: an approval's link is shared with its list. */
export interface GateList {
  items: readonly GateItem[];
  keys: readonly string[];
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
  status(target: TargetPlan, status: TargetStatus, message: string, detail?: StatusDetail): Promise<void>;
  /**
   * Runs one of the target's commands; a missing command is a logged no-op that succeeds.
   * Once `signal` aborts, a running command is stopped (SIGTERM) and the step fails.
   */
  command(
    target: TargetPlan,
    command: keyof Commands,
    phase: StepPhase,
    env: Record<string, string>,
    signal: AbortSignal,
  ): Promise<StepReport>;
  /** Tells the story of the target (deployed, rolled back, …). */
  log(target: TargetPlan, message: string): void;
  now(): number;
}

/** What a final status means beyond the outcome: a failed rollback leaves the environment in an unknown state. */
export interface StatusDetail {
  rollbackFailed: boolean;
}

type Outcome = { outcome: TargetOutcome; message: string; rollbackFailed?: boolean };

/**
 * Runs the target, or in gate mode only one constraint list of it; resolves with
 * its report whatever happens.
 */
export async function runTarget(
  target: TargetPlan,
  fx: TargetEffects,
  signal: AbortSignal,
  mode: GateMode | null = null,
): Promise<TargetReport> {
  const steps: StepReport[] = [];
  const start = new Date(fx.now()).toISOString();
  await fx.status(target, 'running', mode ? `${mode} gates` : 'deploying');
  const { outcome, message, rollbackFailed = false } = mode
    ? await gatesOnly(target, mode, fx, signal, steps)
    : await phases(target, fx, signal, steps);
  fx.log(target, message);
  // After passing its beforeDeployment gates in gate mode the target is still being deployed (by the user's steps).
  if (!(mode === 'beforeDeployment' && outcome === 'succeeded')) await fx.status(target, outcome, message, { rollbackFailed });
  return { target: target.name, outcome, message, steps, start, end: new Date(fx.now()).toISOString() };
}

async function gatesOnly(target: TargetPlan, mode: GateMode, fx: TargetEffects, signal: AbortSignal, steps: StepReport[]): Promise<Outcome> {
  const failure = await gateList(target, mode, target[mode], fx, signal, steps);
  if (failure && signal.aborted) return canceled(target, mode, signal);
  if (!failure) {
    const next = mode === 'beforeDeployment' ? 'the deployment may proceed' : 'the target is deployed';
    return { outcome: 'succeeded', message: `${target.name} passed its ${mode} gates: ${next}` };
  }
  const why = describeFailure(failure);
  const what = mode === 'beforeDeployment' ? 'must not be deployed' : 'failed its afterDeployment gates; its dependents are canceled';
  return { outcome: 'failed', message: `${target.name} ${what}: ${mode} ${why}` };
}

async function phases(target: TargetPlan, fx: TargetEffects, signal: AbortSignal, steps: StepReport[]): Promise<Outcome> {
  const failed = (step: StepReport | undefined): step is StepReport => step !== undefined && step.state !== 'succeeded';
  const fail = async (step: StepReport, phase: StepPhase): Promise<Outcome> => {
    if (signal.aborted) return canceled(target, phase, signal);
    const why = describeFailure(step);
    if (onStepFailure(phase) === 'fail') {
      const what = phase === 'beforeDeployment' ? 'not deployed' : 'kept as deployed; its dependents are canceled';
      return { outcome: 'failed', message: `${target.name} ${what}: ${phase} ${why}` };
    }
    const rollback = await fx.command(target, 'rollback', 'rollback', {}, signal);
    steps.push(rollback);
    const outcome = outcomeAfterRollback(rollback.state === 'succeeded');
    const done = outcome === 'rolled-back' ? 'rolled back' : 'failed, and so did its rollback';
    return { outcome, message: `${target.name} ${done}: ${phase} ${why}`, rollbackFailed: outcome !== 'rolled-back' };
  };

  let step = await gateList(target, 'beforeDeployment', target.beforeDeployment, fx, signal, steps);
  if (failed(step)) return fail(step, 'beforeDeployment');

  step = await record(steps, fx.command(target, 'deploy', 'deploy', {}, signal));
  if (failed(step)) return fail(step, 'deploy');

  step = await strategy(target, fx, signal, steps);
  if (failed(step)) return fail(step, 'strategy');

  step = await gateList(target, 'afterDeployment', target.afterDeployment, fx, signal, steps);
  if (failed(step)) return fail(step, 'afterDeployment');

  return { outcome: 'succeeded', message: `${target.name} deployed` };
}

/** The strategy's steps; the first failed step, if any. */
async function strategy(
  target: TargetPlan,
  fx: TargetEffects,
  signal: AbortSignal,
  steps: StepReport[],
): Promise<StepReport | undefined> {
  const plan = target.strategy;
  if (!plan) return undefined;
  if (plan.kind === 'canary') {
    let weight = 0;
    for (const [index, item] of plan.steps.entries()) {
      const step =
        item.kind === 'setWeight'
          ? await setWeight(target, fx, steps, signal, (weight = item.weight))
          : await record(steps, fx.gate(target, 'strategy', item, `strategy/${index}`, signal, { items: [item], keys: [`strategy/${index}`] }));
      if (step.state !== 'succeeded') return step;
    }
    // SPEC §2: after the last step the weight is 100.
    return weight === 100 ? undefined : setWeight(target, fx, steps, signal, 100);
  }
  const before = await gateList(target, 'strategy', plan.redirectTrafficAfter, fx, signal, steps, 'redirectTrafficAfter');
  if (before && before.state !== 'succeeded') return before;
  const redirect = await record(steps, fx.command(target, 'redirectTraffic', 'strategy', {}, signal));
  if (redirect.state !== 'succeeded') return redirect;
  const after = await gateList(target, 'strategy', plan.shutDownOldVersionAfter, fx, signal, steps, 'shutDownOldVersionAfter');
  if (after && after.state !== 'succeeded') return after;
  const shutDown = await record(steps, fx.command(target, 'shutDownOldVersion', 'strategy', {}, signal));
  return shutDown.state === 'succeeded' ? undefined : shutDown;
}

function setWeight(target: TargetPlan, fx: TargetEffects, steps: StepReport[], signal: AbortSignal, weight: number): Promise<StepReport> {
  return record(steps, fx.command(target, 'setWeight', 'strategy', { HOOKGATE_WEIGHT: String(weight) }, signal));
}

/**
 * The run was canceled (the job got SIGINT/SIGTERM): the target ends `canceled`
 * and no rollback runs — the runner kills the step seconds later, and a rollback
 * cut short would leave less known than the deploy it interrupted.
 */
function canceled(target: TargetPlan, phase: StepPhase, signal: AbortSignal): Outcome {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  const state =
    phase === 'beforeDeployment'
      ? 'nothing was deployed'
      : phase === 'afterDeployment'
        ? 'it stays as deployed'
        : 'no rollback ran, so it may be partly deployed';
  return { outcome: 'canceled', message: `${target.name} canceled during ${phase} (${reason}): ${state}` };
}

/**
 * Runs a constraint list in parallel. The first failure cancels the others at
 * once (Armory's rule: a failed webhook does not wait for a pending approval).
 * Resolves with the first failed step, or undefined when all passed.
 */
async function gateList(
  target: TargetPlan,
  phase: GatePhase,
  items: readonly GateItem[],
  fx: TargetEffects,
  signal: AbortSignal,
  steps: StepReport[],
  keyPrefix: string = phase,
): Promise<StepReport | undefined> {
  if (items.length === 0) return undefined;
  const siblings = new AbortController();
  // A cancel that came while a command ran must reach this list too: 'abort' will not fire again.
  if (signal.aborted) siblings.abort(signal.reason);
  const onAbort = (): void => siblings.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let firstFailure: StepReport | undefined;
  const list: GateList = { items, keys: items.map((_, index) => `${keyPrefix}/${index}`) };
  try {
    const results = await Promise.all(
      items.map(async (item, index) => {
        const step = await fx.gate(target, phase, item, list.keys[index] ?? `${keyPrefix}/${index}`, siblings.signal, list);
        if (step.state !== 'succeeded' && !firstFailure) {
          firstFailure = step;
          siblings.abort(new Error(`${step.kind} ${step.name} ${step.state}`));
        }
        return step;
      }),
    );
    steps.push(...results);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return firstFailure;
}

async function record(steps: StepReport[], pending: Promise<StepReport>): Promise<StepReport> {
  const step = await pending;
  steps.push(step);
  return step;
}

/** "webhook Tests failed: 3 tests failed" */
function describeFailure(step: StepReport): string {
  const state = step.state === 'timed-out' ? 'timed out' : step.state;
  return `${step.kind} ${step.name} ${state}${step.message ? `: ${step.message}` : ''}`;
}

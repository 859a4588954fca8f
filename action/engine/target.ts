/**
 * One target's phases in order: beforeDeployment → deploy → strategy →
 * afterDeployment. Effects (gates, commands) are passed in; what a failure
 * means comes from the pure decisions in outcomes.ts.
 */
import { runBlueGreen } from './blue-green.ts';
import { runCanary } from './canary.ts';
import type { GateMode, TargetEffects } from './effects.ts';
import { gateList, record } from './gate-list.ts';
import {
  abortedEnding,
  describeFailure,
  failedEnding,
  gateModeEnding,
  onStepFailure,
  recordsOutcome,
  rollbackEnding,
} from './outcomes.ts';
import type { Ending } from './outcomes.ts';
import type { TargetPlan } from '../plan/plan.ts';
import type { StepPhase, StepReport, TargetReport } from './report.ts';

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
  if (recordsOutcome(mode, outcome)) await fx.status(target, outcome, message, { rollbackFailed });
  return { target: target.name, outcome, message, steps, start, end: new Date(fx.now()).toISOString() };
}

async function gatesOnly(target: TargetPlan, mode: GateMode, fx: TargetEffects, signal: AbortSignal, steps: StepReport[]): Promise<Ending> {
  const failure = await gateList(target, mode, target[mode], fx, signal, steps);
  if (failure && signal.aborted) return abortedEnding(target.name, mode, signal.reason);
  return gateModeEnding(target.name, mode, failure ? describeFailure(failure) : null);
}

async function phases(target: TargetPlan, fx: TargetEffects, signal: AbortSignal, steps: StepReport[]): Promise<Ending> {
  const failed = (step: StepReport | undefined): step is StepReport => step !== undefined && step.state !== 'succeeded';
  const fail = async (step: StepReport, phase: StepPhase): Promise<Ending> => {
    if (signal.aborted) return abortedEnding(target.name, phase, signal.reason);
    const why = describeFailure(step);
    if (onStepFailure(phase) === 'fail') return failedEnding(target.name, phase, why);
    const rollback = await record(steps, fx.command(target, 'rollback', 'rollback', {}, signal, 'rollback'));
    return rollbackEnding(target.name, phase, why, rollback.state === 'succeeded');
  };

  let step = await gateList(target, 'beforeDeployment', target.beforeDeployment, fx, signal, steps);
  if (failed(step)) return fail(step, 'beforeDeployment');

  step = await record(steps, fx.command(target, 'deploy', 'deploy', {}, signal, 'deploy'));
  if (failed(step)) return fail(step, 'deploy');

  step = await strategy(target, fx, signal, steps);
  if (failed(step)) return fail(step, 'strategy');

  step = await gateList(target, 'afterDeployment', target.afterDeployment, fx, signal, steps);
  if (failed(step)) return fail(step, 'afterDeployment');

  return { outcome: 'succeeded', message: `${target.name} deployed` };
}

/** The strategy's steps; the first failed step, if any. */
function strategy(target: TargetPlan, fx: TargetEffects, signal: AbortSignal, steps: StepReport[]): Promise<StepReport | undefined> {
  const plan = target.strategy;
  if (!plan) return Promise.resolve(undefined);
  return plan.kind === 'canary' ? runCanary(target, plan, fx, signal, steps) : runBlueGreen(target, plan, fx, signal, steps);
}

/** A canary strategy's steps: setWeight commands and gates, in order, ending at weight 100. */
import type { Strategy, TargetPlan } from '../plan/plan.ts';
import type { TargetEffects } from './effects.ts';
import { record } from './gate-list.ts';
import { finalCanaryWeight } from './outcomes.ts';
import type { StepReport } from './report.ts';

type Canary = Extract<Strategy, { kind: 'canary' }>;

/** Runs the canary's steps into `steps`; resolves with the first step that did not succeed, if any. */
export async function runCanary(
  target: TargetPlan,
  canary: Canary,
  fx: TargetEffects,
  signal: AbortSignal,
  steps: StepReport[],
): Promise<StepReport | undefined> {
  let weight = 0;
  for (const [index, item] of canary.steps.entries()) {
    const key = `strategy/${index}`;
    const step =
      item.kind === 'setWeight'
        ? await setWeight(target, fx, steps, signal, (weight = item.weight), key)
        : await record(steps, fx.gate(target, 'strategy', item, key, signal, { items: [item], keys: [key] }));
    if (step.state !== 'succeeded') return step;
  }
  const last = finalCanaryWeight(weight);
  return last === null ? undefined : failed(await setWeight(target, fx, steps, signal, last, 'strategy/final'));
}

function setWeight(target: TargetPlan, fx: TargetEffects, steps: StepReport[], signal: AbortSignal, weight: number, key: string): Promise<StepReport> {
  return record(steps, fx.command(target, 'setWeight', 'strategy', { HOOKGATE_WEIGHT: String(weight) }, signal, key));
}

function failed(step: StepReport): StepReport | undefined {
  return step.state === 'succeeded' ? undefined : step;
}

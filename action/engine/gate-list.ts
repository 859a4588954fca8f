/** Running a constraint list, and keeping a target's steps in the order they ended. */
import type { GateItem, TargetPlan } from '../plan/plan.ts';
import type { GateList, GatePhase, TargetEffects } from './effects.ts';
import type { StepReport } from './report.ts';

/**
 * Runs a constraint list in parallel. The first failure cancels the others at
 * once (Armory's rule: a failed webhook does not wait for a pending approval).
 * Resolves with the first failed step, or undefined when all passed.
 */
export async function gateList(
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
          // Once the run is aborted (canceled or parked) the siblings must see that reason, not this step's.
          siblings.abort(signal.aborted ? signal.reason : new Error(`${step.kind} ${step.name} ${step.state}`));
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

/** Appends the step to `steps` once it ended. */
export async function record(steps: StepReport[], pending: Promise<StepReport>): Promise<StepReport> {
  const step = await pending;
  steps.push(step);
  return step;
}

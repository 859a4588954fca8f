/** Pause steps: wait a fixed time on the clock. */
import type { GatePhase } from '../engine/effects.ts';
import type { StepReport } from '../engine/report.ts';
import { errorMessage } from '../lib/errors.ts';
import { isParking } from '../engine/parking.ts';
import { formatDuration } from '../lib/time.ts';
import type { GateItem, TargetPlan } from '../plan/plan.ts';
import type { EffectsContext } from './context.ts';

type Pause = Extract<GateItem, { kind: 'pause' }>;

/** Waits the pause out; `canceled` once `signal` aborts. Never rejects. */
export async function pauseStep(ctx: EffectsContext, target: TargetPlan, phase: GatePhase, item: Pause, signal: AbortSignal): Promise<StepReport> {
  const started = ctx.clock.now();
  const name = formatDuration(item.seconds * 1000);
  ctx.say(target, `Pausing ${name} (${phase})`);
  try {
    await ctx.clock.sleep(item.seconds * 1000, signal);
    return ctx.step('pause', name, phase, started, 'succeeded', null);
  } catch {
    // A pause is busy (the job never parks during one), but one in a list may not have started yet.
    if (isParking(signal.reason)) return ctx.step('pause', name, phase, started, 'parked', 'parked before it ended');
    return ctx.step('pause', name, phase, started, 'canceled', `canceled: ${errorMessage(signal.reason)}`);
  }
}

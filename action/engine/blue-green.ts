/**
 * A blue/green strategy: its redirectTrafficAfter gates, the traffic switch, its
 * shutDownOldVersionAfter gates, then the old version shut down.
 */
import type { Strategy, TargetPlan } from '../plan/plan.ts';
import type { TargetEffects } from './effects.ts';
import { gateList, record } from './gate-list.ts';
import type { StepReport } from './report.ts';

type BlueGreen = Extract<Strategy, { kind: 'blueGreen' }>;

/** Runs the strategy into `steps`; resolves with the first step that did not succeed, if any. */
export async function runBlueGreen(
  target: TargetPlan,
  plan: BlueGreen,
  fx: TargetEffects,
  signal: AbortSignal,
  steps: StepReport[],
): Promise<StepReport | undefined> {
  const before = await gateList(target, 'strategy', plan.redirectTrafficAfter, fx, signal, steps, 'redirectTrafficAfter');
  if (before) return before;
  const redirect = await record(steps, fx.command(target, 'redirectTraffic', 'strategy', {}, signal, 'strategy/redirectTraffic'));
  if (redirect.state !== 'succeeded') return redirect;
  const after = await gateList(target, 'strategy', plan.shutDownOldVersionAfter, fx, signal, steps, 'shutDownOldVersionAfter');
  if (after) return after;
  const shutDown = await record(steps, fx.command(target, 'shutDownOldVersion', 'strategy', {}, signal, 'strategy/shutDownOldVersion'));
  return shutDown.state === 'succeeded' ? undefined : shutDown;
}

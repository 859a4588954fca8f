/** The real effects behind a target's steps: relay gates, webhook calls, shell commands, pauses, records. */
import type { DeploymentEffects } from '../engine/effects.ts';
import { isParking } from '../engine/parking.ts';
import type { StepReport } from '../engine/report.ts';
import type { TargetPlan } from '../plan/plan.ts';
import { approvalStep } from './approval-gate.ts';
import { commandStep } from './command.ts';
import { createContext } from './context.ts';
import type { EffectsContext, EffectsDeps } from './context.ts';
import { pauseStep } from './pause.ts';
import { createRecordEffects } from './target-record.ts';
import { webhookGate } from './webhook-gate.ts';

/**
 * Effects that talk to the relay, the external systems, GitHub and the shell. Each step is
 * busy for the park watch (only its waits on the relay are not), replayed when the parked
 * attempt this job continues ended it, and journaled before the next step starts. A webhook's
 * or approval's outputs are kept for the target's later steps (`{{outputs.<step>.<key>}}`).
 */
export function createTargetEffects(deps: EffectsDeps, ctx: EffectsContext = createContext(deps)): DeploymentEffects {
  const records = createRecordEffects(ctx);
  const journaled = (target: TargetPlan, key: string, signal: AbortSignal, run: () => Promise<StepReport>): Promise<StepReport> =>
    ctx.watch.busyWhile(async () => {
      const replayed = ctx.journal.replayed(target.name, key);
      if (replayed) {
        ctx.say(target, `${replayed.kind} ${replayed.name}: ${replayed.state} in the parked run (not run again)`);
        // Its outputs reach later steps as the original's did, so a resumed run renders them the same.
        ctx.keepOutputs(target.name, replayed);
        return replayed;
      }
      const step = await run();
      ctx.keepOutputs(target.name, step);
      await ctx.journal.step(target.name, key, step, signal);
      return step;
    });
  return {
    now: () => ctx.clock.now(),
    log: ctx.say,
    status: (target, status, message, detail) => ctx.watch.busyWhile(() => records.status(target, status, message, detail)),
    upstream: (name, signal) => ctx.watch.busyWhile(() => records.upstream(name, signal)),
    kept: (target) => ctx.journal.kept(target.name),
    gate: (target, phase, item, key, signal, list) =>
      journaled(target, key, signal, () => {
        if (item.kind === 'webhook') return webhookGate(ctx, target, phase, item, key, signal, list);
        if (item.kind === 'approval') return approvalStep(ctx, target, phase, item, key, signal);
        return pauseStep(ctx, target, phase, item, signal);
      }),
    command: (target, command, phase, env, signal, key) =>
      journaled(target, key, signal, async () => {
        // Parked before it started (a gate was decided as the job parked): it runs in the resumed run.
        if (signal.aborted && isParking(signal.reason)) {
          const now = ctx.clock.now();
          return ctx.step('command', command, phase, now, 'parked', 'parked before it started');
        }
        return commandStep(ctx, target, command, phase, env, signal);
      }),
  };
}

/** The real effects behind a target's steps: relay gates, webhook calls, shell commands, pauses, records. */
import type { DeploymentEffects } from '../engine/effects.ts';
import { approvalStep } from './approval-gate.ts';
import { commandStep } from './command.ts';
import { createContext } from './context.ts';
import type { EffectsDeps } from './context.ts';
import { pauseStep } from './pause.ts';
import { createRecordEffects } from './target-record.ts';
import { webhookGate } from './webhook-gate.ts';

/** Effects that talk to the relay, the external systems, GitHub and the shell. */
export function createTargetEffects(deps: EffectsDeps): DeploymentEffects {
  const ctx = createContext(deps);
  return {
    now: () => ctx.clock.now(),
    log: ctx.say,
    ...createRecordEffects(ctx),
    gate(target, phase, item, key, signal, list) {
      if (item.kind === 'webhook') return webhookGate(ctx, target, phase, item, key, signal, list);
      if (item.kind === 'approval') return approvalStep(ctx, target, phase, item, key, signal);
      return pauseStep(ctx, target, phase, item, signal);
    },
    command: (target, command, phase, env, signal) => commandStep(ctx, target, command, phase, env, signal),
  };
}

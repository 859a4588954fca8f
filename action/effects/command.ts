/** The target's commands (deploy, setWeight, rollback, …): the user's own scripts in the workspace. */
import { runCommand } from '../clients/shell.ts';
import type { StepPhase, StepReport } from '../engine/report.ts';
import type { Commands, TargetPlan } from '../plan/plan.ts';
import type { EffectsContext } from './context.ts';

/**
 * Runs one command with the HOOKGATE_* variables and `env`; a missing command is a
 * logged no-op that succeeds. Never rejects; `signal` stops a running command.
 */
export async function commandStep(
  ctx: EffectsContext,
  target: TargetPlan,
  command: keyof Commands,
  phase: StepPhase,
  env: Record<string, string>,
  signal: AbortSignal,
): Promise<StepReport> {
  const { log, settings } = ctx;
  const started = ctx.clock.now();
  const script = target.commands[command];
  const label = env.HOOKGATE_WEIGHT === undefined ? command : `${command} ${env.HOOKGATE_WEIGHT}%`;
  if (!script) {
    ctx.say(target, `No ${command} command: nothing to run for ${label}`);
    return ctx.step('command', label, phase, started, 'succeeded', 'no command configured');
  }
  log.startGroup(`[${target.name}] Running ${label}: ${script}`);
  const result = await runCommand({
    script,
    cwd: settings.github.workspace,
    env: {
      HOOKGATE_TARGET: target.name,
      HOOKGATE_DEPLOYMENT_ID: settings.deploymentId,
      HOOKGATE_APPLICATION: ctx.plan.application,
      ...env,
    },
    signal,
    // The user's own script, trusted like a `run:` step: its workflow commands take effect.
    onLine: (line) => log.commandOutput(line),
  }).finally(() => log.endGroup());
  ctx.say(target, result.ok ? `${label} finished` : `${label} failed with exit code ${result.exitCode ?? 'none'}`);
  if (result.ok) return ctx.step('command', label, phase, started, 'succeeded', null);
  const tail = result.tail.length > 0 ? `; last output: ${result.tail.join(' / ')}` : '';
  return ctx.step('command', label, phase, started, 'failed', `${script} exited with ${result.exitCode ?? 'no code'}${tail}`);
}

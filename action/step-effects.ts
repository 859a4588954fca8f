/** The real effects behind a target's steps: relay gates, webhook calls, shell commands, pauses. */
import type { GateView } from '../shared/protocol.ts';
import { runCommand } from './commands.ts';
import type { Log } from './log.ts';
import type { Commands, GateItem, Plan, TargetPlan } from './plan.ts';
import { RelayError, waitForDecision } from './relay-client.ts';
import type { RelayClient } from './relay-client.ts';
import type { StepKind, StepPhase, StepReport, StepState } from './report.ts';
import type { Settings } from './settings.ts';
import type { GatePhase, TargetEffects } from './target-runner.ts';
import { templateResolver } from './template-vars.ts';
import { formatDuration } from './time.ts';
import type { Clock } from './time.ts';
import { callWebhook, renderWebhook } from './webhook-caller.ts';

export interface EffectsDeps {
  plan: Plan;
  settings: Settings;
  relay: RelayClient;
  log: Log;
  clock: Clock;
  fetch?: typeof fetch;
}

/** Effects that talk to the relay, the external systems and the shell. */
export function createTargetEffects(deps: EffectsDeps): TargetEffects {
  const { plan, settings, log, clock } = deps;
  const say = (target: TargetPlan, message: string): void => log.info(`[${target.name}] ${message}`);

  const step = (
    kind: StepKind,
    name: string,
    phase: StepPhase,
    started: number,
    state: StepState,
    message: string | null,
    progress: string[] = [],
  ): StepReport => ({
    kind,
    name,
    phase,
    state,
    message,
    progress,
    start: new Date(started).toISOString(),
    end: new Date(clock.now()).toISOString(),
  });

  async function webhookGate(
    target: TargetPlan,
    phase: GatePhase,
    item: Extract<GateItem, { kind: 'webhook' }>,
    key: string,
    signal: AbortSignal,
  ): Promise<StepReport> {
    const started = clock.now();
    const def = plan.webhooks[item.webhook];
    const done = (state: StepState, message: string | null, progress: string[] = []): StepReport =>
      step('webhook', item.webhook, phase, started, state, message, progress);
    if (!def) return done('failed', `webhook ${item.webhook} is not defined`);

    let gate: GateView | null = null;
    let callbackUri = '';
    try {
      if (!def.disableCallback) {
        const registered = await deps.relay.register(
          {
            runId: settings.deploymentId,
            // A re-run (run attempt > 1) gets fresh gates: the attempt is part of the key.
            stepKey: `attempt-${settings.github.runAttempt}/${target.name}/${key}/${item.webhook}`,
            target: target.name,
            phase,
            name: item.webhook,
            timeoutSeconds: def.timeoutSeconds,
          },
          signal,
        );
        gate = registered;
        callbackUri = registered.callbackUri;
        say(
          target,
          `Gate registered for webhook ${item.webhook} (${phase}); it times out at ${new Date(registered.deadline).toISOString()}`,
        );
        if (registered.state !== 'pending') {
          // An earlier try of this same step already got its answer: do not call the webhook again.
          return outcome(target, item.webhook, registered, done);
        }
      }

      const resolve = templateResolver({
        deploymentId: settings.deploymentId,
        application: plan.application,
        target: target.name,
        callbackUri,
        approvalUrl: '',
        github: settings.github,
        context: { ...settings.context, ...plan.context, ...item.context },
        secrets: settings.secrets,
      });
      const request = renderWebhook(def, resolve);
      const call = await callWebhook(request, {
        retryCount: def.retryCount,
        signal,
        clock,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        onRetry: (reason, attempt, delay) =>
          log.warning(`[${target.name}] webhook ${item.webhook} failed (${reason}); retry ${attempt} of ${def.retryCount} in ${formatDuration(delay)}`),
      });
      if (!call.ok) {
        if (gate) await withdraw(gate, `the webhook call failed: ${call.reason}`);
        return done('failed', `the call to ${request.method} ${hostOf(request.url)} failed after ${call.attempts} attempt(s): ${call.reason}`);
      }
      say(target, `Webhook ${item.webhook} called: ${request.method} ${hostOf(request.url)} answered ${call.status}`);
      if (!gate) return done('succeeded', `answered ${call.status}; no callback awaited (disableCallback)`);

      say(target, `Waiting for the callback of ${item.webhook} …`);
      const decided = await waitForDecision(deps.relay, gate, {
        signal,
        clock,
        onWaiting: (elapsed, current) =>
          say(
            target,
            `Still waiting for ${item.webhook} (${phase}): ${formatDuration(elapsed)} so far, until ${new Date(current.deadline).toISOString()} (${formatDuration(current.deadline - clock.now())} left)`,
          ),
        onProgress: (message) => say(target, `Progress from ${item.webhook}: ${message}`),
        onRelayError: (error, retryIn) =>
          log.warning(`[${target.name}] ${error.message}; asking again in ${formatDuration(retryIn)}`),
      });
      return outcome(target, item.webhook, decided, done);
    } catch (error) {
      if (signal.aborted) {
        if (gate) await withdraw(gate, 'a sibling step failed first');
        return done('canceled', `canceled: ${reasonOf(signal.reason)}`);
      }
      const message = error instanceof RelayError ? error.message : `unexpected error: ${reasonOf(error)}`;
      return done('failed', message);
    }
  }

  function outcome(
    target: TargetPlan,
    name: string,
    gate: GateView,
    done: (state: StepState, message: string | null, progress: string[]) => StepReport,
  ): StepReport {
    const progress = gate.progress.map((p) => p.message);
    // waitForDecision only returns decided gates; a pending one here would be a relay bug.
    // A gate superseded by a re-run belongs to an attempt that no longer counts.
    const state: Exclude<StepState, 'skipped'> =
      gate.state === 'pending' ? 'failed' : gate.state === 'superseded' ? 'canceled' : gate.state;
    const headline = {
      succeeded: `Callback for ${name}: success`,
      failed: `Callback for ${name}: failure`,
      'timed-out': `${name} timed out`,
      canceled: `${name} was canceled`,
    }[state];
    say(target, `${headline}${gate.message ? ` — ${gate.message}` : ''}`);
    return done(state, gate.message, progress);
  }

  async function withdraw(gate: GateView, reason: string): Promise<void> {
    try {
      await deps.relay.cancel({ runId: gate.runId, reason, gateIds: [gate.gateId] });
    } catch (error) {
      log.warning(`could not cancel gate ${gate.name} at the relay: ${reasonOf(error)}`);
    }
  }

  return {
    now: () => clock.now(),
    log: say,

    async gate(target, phase, item, key, signal) {
      if (item.kind === 'webhook') return webhookGate(target, phase, item, key, signal);
      const started = clock.now();
      if (item.kind === 'approval') {
        return step('approval', 'manual approval', phase, started, 'failed', 'pause untilApproved needs the approval page, which this version does not have yet');
      }
      say(target, `Pausing ${formatDuration(item.seconds * 1000)} (${phase})`);
      try {
        await clock.sleep(item.seconds * 1000, signal);
        return step('pause', formatDuration(item.seconds * 1000), phase, started, 'succeeded', null);
      } catch {
        return step('pause', formatDuration(item.seconds * 1000), phase, started, 'canceled', `canceled: ${reasonOf(signal.reason)}`);
      }
    },

    async command(target, command: keyof Commands, phase, env) {
      const started = clock.now();
      const script = target.commands[command];
      const label = env.HOOKGATE_WEIGHT === undefined ? command : `${command} ${env.HOOKGATE_WEIGHT}%`;
      if (!script) {
        say(target, `No ${command} command: nothing to run for ${label}`);
        return step('command', label, phase, started, 'succeeded', 'no command configured');
      }
      log.startGroup(`[${target.name}] Running ${label}: ${script}`);
      const result = await runCommand({
        script,
        cwd: settings.github.workspace,
        env: {
          HOOKGATE_TARGET: target.name,
          HOOKGATE_DEPLOYMENT_ID: settings.deploymentId,
          HOOKGATE_APPLICATION: plan.application,
          ...env,
        },
        onLine: (line) => log.info(line),
      }).finally(() => log.endGroup());
      say(target, result.ok ? `${label} finished` : `${label} failed with exit code ${result.exitCode ?? 'none'}`);
      if (result.ok) return step('command', label, phase, started, 'succeeded', null);
      const tail = result.tail.length > 0 ? `; last output: ${result.tail.join(' / ')}` : '';
      return step('command', label, phase, started, 'failed', `${script} exited with ${result.exitCode ?? 'no code'}${tail}`);
    },
  };
}

/** Only the host: the rest of a webhook URL may carry a secret. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

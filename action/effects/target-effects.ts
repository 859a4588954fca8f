/** The real effects behind a target's steps: relay gates, webhook calls, shell commands, pauses. */
import { DEFAULT_GATE_TIMEOUT_SECONDS } from '../../shared/protocol.ts';
import type { GateKind, GateView, RegisterGateResponse } from '../../shared/protocol.ts';
import { errorMessage } from '../lib/errors.ts';
import { runCommand } from '../clients/shell.ts';
import type { DeploymentEffects } from '../engine/run-targets.ts';
import type { Commands, GateItem, Plan, TargetPlan } from '../plan/plan.ts';
import { createRecordEffects } from './target-record.ts';
import { runAttempt } from '../settings.ts';
import type { RecordDeps } from './target-record.ts';
import { RelayError, waitForDecision } from '../clients/relay.ts';
import type { StepKind, StepPhase, StepReport, StepState } from '../engine/report.ts';
import type { GateList, GatePhase } from '../engine/target.ts';
import { templateResolver } from './template-vars.ts';
import { formatDuration } from '../lib/time.ts';
import { CANCEL_ATTEMPT_TIMEOUT_MS, callWebhook, renderCancel, renderWebhook } from '../clients/webhook.ts';
import type { WebhookRequest } from '../clients/webhook.ts';

export interface EffectsDeps extends RecordDeps {
  plan: Plan;
  fetch?: typeof fetch;
}

type Approval = Extract<GateItem, { kind: 'approval' }>;

/** Effects that talk to the relay, the external systems and the shell. */
export function createTargetEffects(deps: EffectsDeps): DeploymentEffects {
  const { plan, settings, log, clock } = deps;
  const say = (target: TargetPlan, message: string): void => log.info(`[${target.name}] ${message}`);
  const attempt = runAttempt(settings.github);
  /** Approval registrations by step key: the approval step and its list's webhooks share one. */
  const approvals = new Map<string, Promise<RegisterGateResponse>>();

  function registerGate(
    target: TargetPlan,
    phase: GatePhase,
    gate: { kind: GateKind; name: string; key: string; timeoutSeconds: number; roles?: string[] },
    signal: AbortSignal,
  ): Promise<RegisterGateResponse> {
    return deps.relay.register(
      {
        runId: settings.deploymentId,
        // A re-run (run attempt > 1) gets fresh gates: the attempt is part of the key.
        stepKey: `attempt-${attempt}/${target.name}/${gate.key}/${gate.name}`,
        target: target.name,
        phase,
        name: gate.name,
        timeoutSeconds: gate.timeoutSeconds,
        kind: gate.kind,
        attempt,
        requiresRoles: gate.roles ?? [],
        run: {
          application: plan.application,
          repository: settings.github.repository,
          sha: settings.github.sha,
          ref: settings.github.ref,
          actor: settings.github.actor,
          runUrl: /^https?:\/\//.test(settings.github.runUrl) ? settings.github.runUrl : '',
        },
      },
      signal,
    );
  }

  /** Registers the approval gate once; logs its link the moment it exists (SPEC §4). */
  function approvalGate(target: TargetPlan, phase: GatePhase, item: Approval, key: string, signal: AbortSignal): Promise<RegisterGateResponse> {
    let pending = approvals.get(`${target.name}/${key}`);
    if (!pending) {
      const timeoutSeconds = Math.max(1, Math.ceil(item.expirationSeconds ?? DEFAULT_GATE_TIMEOUT_SECONDS));
      pending = registerGate(target, phase, { kind: 'approval', name: APPROVAL_NAME, key, timeoutSeconds, roles: item.roles }, signal);
      approvals.set(`${target.name}/${key}`, pending);
      pending.then(
        (gate) => {
          if (gate.state === 'pending') {
            const roles = item.roles.length > 0 ? ` (requires role ${item.roles.join(' or ')}; not enforced)` : '';
            say(target, `Approval needed (${phase})${roles}: open ${gate.approvalUrl ?? '(no link)'} to approve or reject; it expires at ${new Date(gate.deadline).toISOString()}`);
          }
        },
        () => approvals.delete(`${target.name}/${key}`),
      );
    }
    return pending;
  }

  /** `{{hookgate.approvalUrl}}` for a webhook: the link of the first approval of its list, or ''. */
  async function approvalUrlOf(target: TargetPlan, phase: GatePhase, list: GateList, signal: AbortSignal): Promise<string> {
    const index = list.items.findIndex((item) => item.kind === 'approval');
    const item = list.items[index];
    const key = list.keys[index];
    if (item?.kind !== 'approval' || key === undefined) return '';
    try {
      return (await approvalGate(target, phase, item, key, signal)).approvalUrl ?? '';
    } catch {
      // The approval step reports the failure to register; this webhook goes on without the link.
      return '';
    }
  }

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
    list: GateList,
  ): Promise<StepReport> {
    const started = clock.now();
    const def = plan.webhooks[item.webhook];
    const done = (state: StepState, message: string | null, progress: string[] = []): StepReport =>
      step('webhook', item.webhook, phase, started, state, message, progress);
    if (!def) return done('failed', `webhook ${item.webhook} is not defined`);

    let gate: GateView | null = null;
    let callbackUri = '';
    /** Set once the external system has the work: tells it the work is no longer needed (cancelTemplate). */
    let callOff: ((why: string) => Promise<void>) | null = null;
    try {
      if (!def.disableCallback) {
        const registered = await registerGate(
          target,
          phase,
          { kind: 'webhook', name: item.webhook, key, timeoutSeconds: def.timeoutSeconds },
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
        approvalUrl: await approvalUrlOf(target, phase, list, signal),
        github: settings.github,
        context: { ...settings.context, ...plan.context, ...item.context },
        secrets: settings.secrets,
      });
      const signing = { signingSecret: settings.webhookSigningSecret };
      const request = renderWebhook(def, resolve, signing);
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
      const signed = call.messageId ? `, signed as ${call.messageId}` : '';
      say(target, `Webhook ${item.webhook} called: ${request.method} ${hostOf(request.url)} answered ${call.status}${signed}`);
      if (!gate) return done('succeeded', `answered ${call.status}; no callback awaited (disableCallback)`);
      callOff = (why) => cancelWebhook(target, item.webhook, renderCancel(def, resolve, signing), why);

      say(target, `Waiting for the callback of ${item.webhook} …`);
      const decided = await waitFor(target, phase, `the callback of ${item.webhook}`, item.webhook, gate, signal);
      if (decided.state === 'timed-out') await callOff('its gate timed out');
      return outcome(target, item.webhook, decided, done);
    } catch (error) {
      if (signal.aborted) {
        const why = errorMessage(signal.reason);
        // The gate closes first, so whatever the system answers the cancel with finds it canceled (410).
        if (gate) await withdraw(gate, `withdrawn: ${why}`);
        await callOff?.(why);
        return done('canceled', `canceled: ${why}`);
      }
      const message = error instanceof RelayError ? error.message : `unexpected error: ${errorMessage(error)}`;
      return done('failed', message);
    }
  }

  /** Sends the webhook's cancelTemplate request once, briefly; a failure is only a warning. */
  async function cancelWebhook(target: TargetPlan, name: string, request: WebhookRequest | null, why: string): Promise<void> {
    if (request === null) return;
    const call = await callWebhook(request, {
      retryCount: 0,
      attemptTimeoutMs: CANCEL_ATTEMPT_TIMEOUT_MS,
      clock,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    if (call.ok) say(target, `Told ${hostOf(request.url)} that ${name} is no longer needed (${why}): ${request.method} answered ${call.status}`);
    else log.warning(`[${target.name}] the cancelTemplate call of ${name} to ${request.method} ${hostOf(request.url)} failed: ${call.reason}`);
  }

  function waitFor(target: TargetPlan, phase: GatePhase, what: string, name: string, gate: GateView, signal: AbortSignal): Promise<GateView> {
    return waitForDecision(deps.relay, gate, {
      signal,
      clock,
      onWaiting: (elapsed, current) =>
        say(
          target,
          `Still waiting for ${what} (${phase}): ${formatDuration(elapsed)} so far, until ${new Date(current.deadline).toISOString()} (${formatDuration(current.deadline - clock.now())} left)`,
        ),
      onProgress: (message) => say(target, `Progress from ${name}: ${message}`),
      onRelayError: (error, retryIn) => log.warning(`[${target.name}] ${error.message}; asking again in ${formatDuration(retryIn)}`),
    });
  }

  async function approvalStep(target: TargetPlan, phase: GatePhase, item: Approval, key: string, signal: AbortSignal): Promise<StepReport> {
    const started = clock.now();
    const done = (state: StepState, message: string | null): StepReport => step('approval', APPROVAL_NAME, phase, started, state, message);
    let gate: GateView | null = null;
    try {
      gate = await approvalGate(target, phase, item, key, signal);
      const decided = await waitFor(target, phase, 'an approval', APPROVAL_NAME, gate, signal);
      const who = decided.decidedBy ?? 'anonymous';
      const comment = decided.message ? `: ${decided.message}` : '';
      const result: Record<GateView['state'], [StepState, string]> = {
        succeeded: ['succeeded', `approved by ${who}${comment}`],
        failed: ['failed', `rejected by ${who}${comment}`],
        'timed-out': ['timed-out', `the approval expired at ${new Date(decided.deadline).toISOString()} without a decision`],
        canceled: ['canceled', decided.message ?? 'the approval was withdrawn'],
        superseded: ['canceled', decided.message ?? 'superseded by a re-run'],
        pending: ['failed', 'the relay answered an undecided approval'],
      };
      const [state, message] = result[decided.state];
      say(target, `Approval (${phase}): ${message}`);
      return done(state, message);
    } catch (error) {
      if (signal.aborted) {
        if (gate) await withdraw(gate, `withdrawn: ${errorMessage(signal.reason)}`);
        return done('canceled', `withdrawn: ${errorMessage(signal.reason)}`);
      }
      return done('failed', error instanceof RelayError ? error.message : `unexpected error: ${errorMessage(error)}`);
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
      // Briefly: when the job was canceled, the runner kills this process seconds later.
      // The reason may quote the external system's answer, which may echo a secret; the relay shows it on the approval page.
      const said = deps.redact(reason).slice(0, 500);
      await deps.relay.cancel({ runId: gate.runId, reason: said, gateIds: [gate.gateId] }, AbortSignal.timeout(WITHDRAW_TIMEOUT_MS));
    } catch (error) {
      log.warning(`could not cancel gate ${gate.name} at the relay: ${errorMessage(error)}`);
    }
  }

  return {
    now: () => clock.now(),
    log: say,
    ...createRecordEffects(deps),

    async gate(target, phase, item, key, signal, list) {
      if (item.kind === 'webhook') return webhookGate(target, phase, item, key, signal, list);
      if (item.kind === 'approval') return approvalStep(target, phase, item, key, signal);
      const started = clock.now();
      say(target, `Pausing ${formatDuration(item.seconds * 1000)} (${phase})`);
      try {
        await clock.sleep(item.seconds * 1000, signal);
        return step('pause', formatDuration(item.seconds * 1000), phase, started, 'succeeded', null);
      } catch {
        return step('pause', formatDuration(item.seconds * 1000), phase, started, 'canceled', `canceled: ${errorMessage(signal.reason)}`);
      }
    },

    async command(target, command: keyof Commands, phase, env, signal) {
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
        signal,
        onLine: (line) => log.info(line),
      }).finally(() => log.endGroup());
      say(target, result.ok ? `${label} finished` : `${label} failed with exit code ${result.exitCode ?? 'none'}`);
      if (result.ok) return step('command', label, phase, started, 'succeeded', null);
      const tail = result.tail.length > 0 ? `; last output: ${result.tail.join(' / ')}` : '';
      return step('command', label, phase, started, 'failed', `${script} exited with ${result.exitCode ?? 'no code'}${tail}`);
    },
  };
}

const APPROVAL_NAME = 'manual approval';
/**
 * How long withdrawing a gate at the relay may take: the runner gives a canceled step
 * about 10 s in all, and a cancelTemplate call (5 s at most) follows.
 */
const WITHDRAW_TIMEOUT_MS = 3000;

/** Only the host: the rest of a webhook URL may carry a secret. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}


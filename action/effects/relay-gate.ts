/** A gate's life at the relay, shared by webhook and approval gates: register, wait for its decision, withdraw. */
import { MAX_CANCEL_REASON_CHARS, MAX_GATE_TIMEOUT_SECONDS } from '../../shared/protocol.ts';
import type { ApprovalPolicy, GateKind, GateView, RegisterGateResponse } from '../../shared/protocol.ts';
import { RelayError, waitForDecision } from '../clients/relay.ts';
import type { GatePhase } from '../engine/effects.ts';
import { errorMessage } from '../lib/errors.ts';
import { truncateCodePoints } from '../../shared/text.ts';
import { backoffMs, formatDuration } from '../lib/time.ts';
import type { TargetPlan } from '../plan/plan.ts';
import type { EffectsContext } from './context.ts';

export interface GateSpec {
  kind: GateKind;
  name: string;
  /** The step's key in its target, e.g. `beforeDeployment/0`. */
  key: string;
  timeoutSeconds: number;
  roles?: string[];
  /** An approval gate's policy; a webhook gate has none. */
  approval?: ApprovalPolicy;
  /** A webhook gate's heartbeatTimeout in seconds; none without one. */
  heartbeatSeconds?: number | null;
}

/** Registers the gate (idempotently: an earlier try of this step gets its gate back). */
export function registerGate(ctx: EffectsContext, target: TargetPlan, phase: GatePhase, gate: GateSpec, signal: AbortSignal): Promise<RegisterGateResponse> {
  const { settings, attempt } = ctx;
  return ctx.relay.register(
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
      ...(gate.approval === undefined ? {} : { approval: gate.approval }),
      ...(gate.heartbeatSeconds == null ? {} : { heartbeatSeconds: Math.min(MAX_GATE_TIMEOUT_SECONDS, Math.max(1, Math.ceil(gate.heartbeatSeconds))) }),
      run: {
        application: ctx.plan.application,
        repository: settings.github.repository,
        sha: settings.github.sha,
        ref: settings.github.ref,
        actor: settings.github.actor,
        runUrl: /^https?:\/\//.test(settings.github.runUrl) ? settings.github.runUrl : '',
        ...(ctx.graph === undefined ? {} : { graph: ctx.graph }),
      },
    },
    signal,
  );
}

/**
 * Long-polls the gate until it is decided, telling the target's story meanwhile. The job only
 * waits meanwhile: after park-after it may park (the signal aborts with a Parking reason).
 */
export function waitFor(
  ctx: EffectsContext,
  target: TargetPlan,
  phase: GatePhase,
  what: string,
  name: string,
  gate: GateView & { approvalUrl?: string | null },
  signal: AbortSignal,
): Promise<GateView> {
  const pending = { gateId: gate.gateId, target: target.name, name: gate.name, kind: gate.kind, approvalUrl: gate.approvalUrl ?? null, deadline: gate.deadline };
  return ctx.watch.waitingOn({ gate: pending }, () => longPoll(ctx, target, phase, what, name, gate, signal));
}

function longPoll(ctx: EffectsContext, target: TargetPlan, phase: GatePhase, what: string, name: string, gate: GateView, signal: AbortSignal): Promise<GateView> {
  const { clock, log } = ctx;
  return waitForDecision(ctx.relay, gate, {
    signal,
    clock,
    onWaiting: (elapsed, current) =>
      ctx.say(
        target,
        `Still waiting for ${what} (${phase}): ${formatDuration(elapsed)} so far, until ${new Date(current.deadline).toISOString()} (${formatDuration(current.deadline - clock.now())} left)`,
      ),
    onProgress: (message) => ctx.say(target, `Progress from ${name}: ${message}`),
    onRelayError: (error, retryIn) => log.warning(`[${target.name}] ${error.message}; asking again in ${formatDuration(retryIn)}`),
  });
}

/**
 * Tells the relay the gate's webhook was called, so its heartbeat clock starts (heartbeatTimeout);
 * tried again through what may pass. A failure is a warning: the gate still waits for its callback.
 */
export async function reportCalled(ctx: EffectsContext, target: TargetPlan, gate: GateView, signal: AbortSignal): Promise<void> {
  let failure: unknown = null;
  for (let tries = 0; tries < CALLED_TRIES; tries++) {
    try {
      if (tries > 0) await ctx.clock.sleep(backoffMs(tries - 1), signal);
      await ctx.relay.gateCalled({ runId: gate.runId, gateId: gate.gateId }, signal);
      return;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      failure = error;
      if (!(error instanceof RelayError) || !error.retryable) break;
    }
  }
  ctx.log.warning(`[${target.name}] could not tell the relay that ${gate.name} was called, so its heartbeatTimeout may not be enforced: ${errorMessage(failure)}`);
}

/** Tries of POST /v1/gates/called before it is left at a warning. */
const CALLED_TRIES = 3;

/** Cancels the gate at the relay, briefly; a failure is only a warning. */
export async function withdraw(ctx: EffectsContext, gate: GateView, reason: string): Promise<void> {
  try {
    // Briefly: when the job was canceled, the runner kills this process seconds later.
    // The reason may quote the external system's answer, which may echo a secret; the relay shows it on the approval page.
    const said = truncateCodePoints(ctx.redact(reason), MAX_CANCEL_REASON_CHARS);
    await ctx.relay.cancel({ runId: gate.runId, reason: said, gateIds: [gate.gateId] }, AbortSignal.timeout(WITHDRAW_TIMEOUT_MS));
  } catch (error) {
    ctx.log.warning(`could not cancel gate ${gate.name} at the relay: ${errorMessage(error)}`);
  }
}

/**
 * How long withdrawing a gate at the relay may take: the runner gives a canceled step
 * about 10 s in all, and a cancelTemplate call (5 s at most) follows.
 */
const WITHDRAW_TIMEOUT_MS = 3000;

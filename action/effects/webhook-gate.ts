/**
 * Webhook gates: call the external system with a callback URI, then wait for its
 * callback at the relay (or, with disableCallback, only for its HTTP answer).
 */
import type { GateView, Outputs, RegisterGateResponse } from '../../shared/protocol.ts';
import { RelayError } from '../clients/relay.ts';
import { hostOf } from '../clients/http.ts';
import { CANCEL_ATTEMPT_TIMEOUT_MS, callWebhook, renderCancel, renderWebhook } from '../clients/webhook.ts';
import type { WebhookRequest } from '../clients/webhook.ts';
import type { GateList, GatePhase } from '../engine/effects.ts';
import type { StepReport, StepState } from '../engine/report.ts';
import { errorMessage } from '../lib/errors.ts';
import { isParking } from '../engine/parking.ts';
import { formatDuration } from '../lib/time.ts';
import type { GateItem, TargetPlan, WebhookDef } from '../plan/plan.ts';
import { approvalUrlOf } from './approval-gate.ts';
import type { EffectsContext } from './context.ts';
import { monitorGate } from './monitor.ts';
import type { CallAnswer } from './monitor-vars.ts';
import { registerGate, reportCalled, waitFor, withdraw } from './relay-gate.ts';
import { missingOutput, templateResolver } from './template-vars.ts';

type Webhook = Extract<GateItem, { kind: 'webhook' }>;
/** What a webhook's monitor starts from: the call's variables and its answer. */
interface Monitored {
  resolve: (name: string) => string | undefined;
  answer: CallAnswer;
}

type Done = (state: StepState, message: string | null, progress?: string[], outputs?: Outputs | null) => StepReport;

/** One webhook step in a list: what it needs and where it ended up. */
interface Call {
  target: TargetPlan;
  phase: GatePhase;
  item: Webhook;
  def: WebhookDef;
  key: string;
  list: GateList;
  signal: AbortSignal;
  done: Done;
  /** The relay gate once registered. */
  gate: RegisterGateResponse | null;
  /** Set once the external system has the work: tells it the work is no longer needed (cancelTemplate). */
  callOff: ((why: string) => Promise<void>) | null;
  /** When the step started (epoch ms). */
  started: number;
}

/** Runs the webhook step; resolves with its step (never rejects), `canceled` once `signal` aborts. */
export async function webhookGate(
  ctx: EffectsContext,
  target: TargetPlan,
  phase: GatePhase,
  item: Webhook,
  key: string,
  signal: AbortSignal,
  list: GateList,
): Promise<StepReport> {
  const started = ctx.clock.now();
  const done: Done = (state, message, progress = [], outputs = null) => ctx.step('webhook', item.webhook, phase, started, state, message, progress, outputs);
  const def = ctx.plan.webhooks[item.webhook];
  if (!def) return done('failed', `webhook ${item.webhook} is not defined`);
  const call: Call = { target, phase, item, def, key, list, signal, done, gate: null, callOff: null, started };
  try {
    return await callAndAwait(ctx, call);
  } catch (error) {
    // Parked: the gate stays pending and the external system keeps the work; a resumed run waits for the callback.
    if (signal.aborted && isParking(signal.reason)) return done('parked', 'parked: the callback is awaited at the relay');
    if (signal.aborted) {
      const why = errorMessage(signal.reason);
      // The gate closes first, so whatever the system answers the cancel with finds it canceled (410).
      if (call.gate) await withdraw(ctx, call.gate, `withdrawn: ${why}`);
      await call.callOff?.(why);
      return done('canceled', `canceled: ${why}`);
    }
    const message = error instanceof RelayError ? error.message : `unexpected error: ${errorMessage(error)}`;
    return done('failed', message);
  }
}

async function callAndAwait(ctx: EffectsContext, call: Call): Promise<StepReport> {
  const { target, phase, item, def, signal, done } = call;
  const { settings, log } = ctx;
  const outputs = ctx.outputsOf(target.name);
  // Before anything is registered or sent: a request missing an earlier step's output is never made.
  const missing = missingOutput(def, target.name, outputs);
  if (missing !== null) return done('failed', missing);
  let callbackUri = '';
  if (!def.disableCallback) {
    const spec = { kind: 'webhook' as const, name: item.webhook, key: call.key, timeoutSeconds: def.timeoutSeconds, heartbeatSeconds: def.heartbeatSeconds };
    const registered = await registerGate(ctx, target, phase, spec, signal);
    call.gate = registered;
    callbackUri = registered.callbackUri;
    ctx.say(target, `Gate registered for webhook ${item.webhook} (${phase}); it times out at ${new Date(registered.deadline).toISOString()}`);
    // An earlier try of this same step already got its answer: do not call the webhook again.
    if (registered.state !== 'pending') return outcome(ctx, target, item.webhook, registered, done);
  }

  const resolve = templateResolver({
    deploymentId: settings.deploymentId,
    application: ctx.plan.application,
    target: target.name,
    account: target.account,
    namespace: target.namespace,
    callbackUri,
    approvalUrl: await approvalUrlOf(ctx, target, phase, call.list, signal),
    github: settings.github,
    // Step over target (contextOverrides) over file over input.
    context: { ...settings.context, ...ctx.plan.context, ...target.context, ...item.context },
    secrets: settings.secrets,
    outputs,
  });
  const signing = { signingSecret: settings.webhookSigningSecret };
  if (call.gate && ctx.journal.called(target.name, call.key)) {
    // The parked attempt called it already: never again (SPEC §9); its callback is awaited as before.
    ctx.say(target, `Webhook ${item.webhook} was called by the parked run; waiting for its callback …`);
    call.callOff = (why) => cancelWebhook(ctx, target, item.webhook, renderCancel(def, resolve, signing), why);
    // Idempotent at the relay: a clock the parked run started keeps running.
    if (def.heartbeatSeconds !== null) await reportCalled(ctx, target, call.gate, signal);
    // Its answer is gone with the earlier run, so its monitor cannot start again. A job never parks while
    // its monitor polls or posts its verdict (busy until the relay has it or the gate is decided), so a
    // parked run's gate has its verdict; a pending gate here means the earlier run died while polling.
    if (def.monitor) ctx.say(target, `The monitor of ${item.webhook} is not restarted: the parked run's call answer is gone; its callback decides`);
    return awaitCallback(ctx, call, call.gate);
  }
  const request = renderWebhook(def, resolve, signing);
  const answer = await callWebhook(request, {
    retryCount: def.retryCount,
    // The gate's deadline; without a gate (disableCallback) the step's own timeout from its start.
    deadline: call.gate?.deadline ?? call.started + def.timeoutSeconds * 1000,
    signal,
    clock: ctx.clock,
    redact: ctx.redact,
    ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
    onRetry: (reason, attempt, delay) =>
      log.warning(`[${target.name}] webhook ${item.webhook} failed (${reason}); retry ${attempt} of ${def.retryCount} in ${formatDuration(delay)}`),
  });
  if (!answer.ok) {
    if (call.gate) await withdraw(ctx, call.gate, `the webhook call failed: ${answer.reason}`);
    return done('failed', `the call to ${request.method} ${hostOf(request.url)} failed after ${answer.attempts} attempt(s): ${answer.reason}`);
  }
  const signed = answer.messageId ? `, signed as ${answer.messageId}` : '';
  ctx.say(target, `Webhook ${item.webhook} called: ${request.method} ${hostOf(request.url)} answered ${answer.status}${signed}`);
  if (!call.gate) return done('succeeded', `answered ${answer.status}; no callback awaited (disableCallback)`);
  call.callOff = (why) => cancelWebhook(ctx, target, item.webhook, renderCancel(def, resolve, signing), why);
  // Before the wait, when the job may park: a resumed run must know the call was made.
  await ctx.journal.markCalled(target.name, call.key);
  // From here the system must be heard from at least every heartbeatTimeout (the relay's alarm enforces it).
  if (def.heartbeatSeconds !== null) await reportCalled(ctx, target, call.gate, signal);

  ctx.say(target, def.monitor ? `Polling the status of ${item.webhook} (monitor) while waiting for its callback …` : `Waiting for the callback of ${item.webhook} …`);
  const monitored = def.monitor ? { resolve, answer: { status: answer.status, headers: answer.headers, body: answer.body } } : null;
  return awaitCallback(ctx, call, call.gate, monitored);
}

/**
 * Waits for the callback of a called webhook, its monitor (if any) polling beside the wait until the
 * wait returns or the step is canceled; on a timeout tells the system the work is no longer needed.
 */
async function awaitCallback(ctx: EffectsContext, call: Call, gate: RegisterGateResponse, monitored: Monitored | null = null): Promise<StepReport> {
  const { target, phase, item, def, signal, done } = call;
  const monitoring = new AbortController();
  // Aborted when the relay refuses the monitor's verdict for good: nothing will decide the gate but its timeout.
  const refused = new AbortController();
  // Busy: the monitor polls from the runner and posts its verdict until the relay has it, so the job must not park meanwhile.
  const polling = monitored
    ? ctx.watch
        .busyWhile(() => monitorGate({ ctx, target, def, ...monitored, gate, signal: AbortSignal.any([signal, monitoring.signal]) }))
        .then((failure) => (failure ? refused.abort(new Error(failure)) : undefined))
    : null;
  let decided: GateView | null = null;
  try {
    decided = await waitFor(ctx, target, phase, `the callback of ${item.webhook}`, item.webhook, gate, AbortSignal.any([signal, refused.signal]));
  } catch (error) {
    if (signal.aborted || !refused.signal.aborted) throw error;
  } finally {
    monitoring.abort(new Error('the gate was decided'));
    await polling;
  }
  if (decided === null) {
    const failure = errorMessage(refused.signal.reason);
    await withdraw(ctx, gate, failure);
    ctx.say(target, failure);
    return done('failed', failure);
  }
  if (decided.state === 'timed-out') await call.callOff?.('its gate timed out');
  return outcome(ctx, target, item.webhook, decided, done);
}

/** Sends the webhook's cancelTemplate request once, briefly; a failure is only a warning. */
async function cancelWebhook(ctx: EffectsContext, target: TargetPlan, name: string, request: WebhookRequest | null, why: string): Promise<void> {
  if (request === null) return;
  const call = await callWebhook(request, {
    retryCount: 0,
    attemptTimeoutMs: CANCEL_ATTEMPT_TIMEOUT_MS,
    clock: ctx.clock,
    redact: ctx.redact,
    ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
  });
  if (call.ok) ctx.say(target, `Told ${hostOf(request.url)} that ${name} is no longer needed (${why}): ${request.method} answered ${call.status}`);
  else ctx.log.warning(`[${target.name}] the cancelTemplate call of ${name} to ${request.method} ${hostOf(request.url)} failed: ${call.reason}`);
}

/** The step for a decided gate, with its headline in the log. */
function outcome(ctx: EffectsContext, target: TargetPlan, name: string, gate: GateView, done: Done): StepReport {
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
  ctx.say(target, `${headline}${gate.message ? ` — ${gate.message}` : ''}`);
  return done(state, gate.message, progress, gate.outputs);
}

/**
 * The deploy queue at the start of a deployment (SPEC §11, Armory's
 * `deploymentConfig.ifDeploymentInProgress`): one deployment of an application at a time per
 * repository, kept by the relay. `reject` fails the deployment while another one is in progress;
 * `enqueueOne` waits on a webhook gate of this run that the relay decides when the one in progress
 * ends (or fails when a newer deployment takes the waiting place), so the job may park meanwhile.
 */
import { DEFAULT_GATE_TIMEOUT_SECONDS } from '../../shared/protocol.ts';
import type { GateView, RegisterGateResponse } from '../../shared/protocol.ts';
import { LEASE_SECONDS, MAX_HOLD_SECONDS, QUEUE_GATE_NAME, RENEW_EVERY_SECONDS } from '../../shared/queue.ts';
import type { QueueKey, QueueMember, QueueView, RenewQueueRequest } from '../../shared/queue.ts';
import type { QueueApi } from '../clients/queue.ts';
import { RelayError } from '../clients/relay.ts';
import { isParking } from '../engine/parking.ts';
import type { RunReport, StepReport, TargetOutcome } from '../engine/report.ts';
import { errorMessage } from '../lib/errors.ts';
import type { TargetPlan } from '../plan/plan.ts';
import type { EffectsContext } from './context.ts';
import { waitFor, withdraw } from './relay-gate.ts';

/** The queue gate's name, as the approval page and the summary show it. */
export const QUEUE_GATE = QUEUE_GATE_NAME;
/** How long a deployment waits in the queue before it fails: a gate's default timeout. */
export const QUEUE_WAIT_SECONDS = DEFAULT_GATE_TIMEOUT_SECONDS;
const FIELD = 'deploymentConfig.ifDeploymentInProgress.strategy';
/** The journal's mark that this job waits in the queue: a resumed run finds its queue gate again. */
const JOURNAL_TARGET = '#queue';

export interface QueueDeps {
  ctx: EffectsContext;
  queue: QueueApi;
  /** Every target of the file: with one job per environment the application is free once each one's job left. */
  targets: string[];
  /** Runs `tick` every `ms` without keeping the process alive; answers its stop. */
  every?: (ms: number, tick: () => void) => () => void;
}

/** Whether the deployment goes on; when not, its report. `place`: the queue place to leave or hold at the end. */
export type QueueStart = { go: true; place: QueuePlace | null } | { go: false; report: RunReport; place: QueuePlace | null };

/** Takes the deployment's place in the queue, waiting when another one is in progress (enqueueOne). */
export async function enterQueue(deps: QueueDeps, signal: AbortSignal): Promise<QueueStart> {
  const { ctx } = deps;
  const strategy = ctx.plan.deploymentQueue;
  const first = ctx.plan.targets[0];
  if (strategy === null || !first) return { go: true, place: null };
  const place = new QueuePlace(deps, { repository: ctx.settings.github.repository, application: ctx.plan.application });
  // An afterDeployment gate step follows its job's deploy: the place is the one its beforeDeployment step took.
  if (ctx.settings.phase === 'afterDeployment') {
    place.startRenewing();
    return { go: true, place };
  }
  const request = {
    ...place.key,
    runId: ctx.settings.deploymentId,
    attempt: ctx.attempt,
    runUrl: /^https?:\/\//.test(ctx.settings.github.runUrl) ? ctx.settings.github.runUrl : '',
    strategy,
    targets: deps.targets,
  };
  // A resumed run that waited in the queue: its gate tells how the wait ended.
  if (ctx.journal.called(JOURNAL_TARGET, first.name)) {
    const gate = await registerQueueGate(ctx, first, signal);
    if (gate.state === 'pending') return waitInQueue(place, first, await enter(deps, { ...request, wakeGateId: gate.gateId }, signal), gate, signal);
    if (gate.state !== 'succeeded') return afterWait(place, first, gate);
    // It became the holder while parked: entering again renews the place it was given.
    const view = await enter(deps, request, signal);
    if (view.position !== 'holding') {
      const why = `lost its place in the deploy queue while parked (${inProgress(view.holder)}); run the deployment again`;
      return { go: false, report: report(ctx, 'failed', why, []), place };
    }
    return afterWait(place, first, gate);
  }
  const view = await enter(deps, request, signal);
  if (view.position === 'holding') {
    place.startRenewing();
    return { go: true, place };
  }
  if (view.position !== 'waiting') return { go: false, report: refused(ctx, view), place: null };
  place.startRenewing();
  ctx.log.info(`hookgate: deployment ${ctx.settings.deploymentId} of ${ctx.plan.application} waits in the deploy queue: ${inProgress(view.holder)}; it goes on when that one ends (${FIELD}: enqueueOne)`);
  const gate = await registerQueueGate(ctx, first, signal);
  await ctx.journal.markCalled(JOURNAL_TARGET, first.name);
  return waitInQueue(place, first, await enter(deps, { ...request, wakeGateId: gate.gateId }, signal), gate, signal);
}

/** Waits on the queue gate unless the second enter already settled it. */
async function waitInQueue(place: QueuePlace, first: TargetPlan, view: QueueView, gate: GateView, signal: AbortSignal): Promise<QueueStart> {
  const { ctx } = place.deps;
  if (view.position === 'holding') {
    place.startRenewing();
    return { go: true, place };
  }
  if (view.position !== 'waiting') {
    place.stop();
    return { go: false, report: refused(ctx, view), place: null };
  }
  place.startRenewing();
  const started = ctx.clock.now();
  try {
    const decided = await ctx.watch.busyWhile(() => waitFor(ctx, first, 'beforeDeployment', 'the deploy queue', QUEUE_GATE, gate, signal));
    return afterWait(place, first, decided, started);
  } catch (error) {
    if (!signal.aborted) throw error;
    if (isParking(signal.reason)) {
      const step = ctx.step('webhook', QUEUE_GATE, 'beforeDeployment', started, 'parked', 'parked while waiting in the deploy queue');
      return { go: false, report: report(ctx, 'parked', 'parked while waiting in the deploy queue; the resumed run goes on when the deployment in progress ends', [step]), place };
    }
    await withdraw(ctx, gate, 'the workflow job was canceled');
    const step = ctx.step('webhook', QUEUE_GATE, 'beforeDeployment', started, 'canceled', 'the workflow job was canceled');
    return { go: false, report: report(ctx, 'canceled', 'the run was canceled while it waited in the deploy queue', [step]), place };
  }
}

/** How a decided queue gate ends the wait: success goes on; a replacement cancels; a timeout fails. */
function afterWait(place: QueuePlace, first: TargetPlan, gate: GateView, started = gate.createdAt): QueueStart {
  const { ctx } = place.deps;
  const message = gate.message ?? gate.state;
  if (gate.state === 'succeeded') {
    ctx.say(first, `deploy queue: ${message}`);
    place.startRenewing();
    return { go: true, place };
  }
  const timedOut = gate.state === 'timed-out';
  const why = timedOut ? `waited in the deploy queue until its timeout (${QUEUE_WAIT_SECONDS / 3600} hours) and gave up` : message;
  const step = ctx.step('webhook', QUEUE_GATE, 'beforeDeployment', started, timedOut ? 'timed-out' : gate.state === 'failed' ? 'failed' : 'canceled', why);
  // Replaced: the relay dropped its place already; otherwise leaving is harmless.
  return { go: false, report: report(ctx, timedOut ? 'failed' : 'canceled', why, [step]), place };
}

/** The queue gate of this job's first target: idempotent, so a resumed run gets its own gate back. */
async function registerQueueGate(ctx: EffectsContext, first: TargetPlan, signal: AbortSignal): Promise<RegisterGateResponse> {
  const { settings } = ctx;
  return ctx.watch.busyWhile(() =>
    ctx.relay.register(
      {
        runId: settings.deploymentId,
        stepKey: `attempt-${ctx.attempt}/${first.name}/#queue/${QUEUE_GATE}`,
        target: first.name,
        phase: 'beforeDeployment',
        name: QUEUE_GATE,
        timeoutSeconds: QUEUE_WAIT_SECONDS,
        kind: 'webhook',
        attempt: ctx.attempt,
      },
      signal,
    ),
  );
}

async function enter(deps: QueueDeps, request: Parameters<QueueApi['enter']>[0], signal: AbortSignal): Promise<QueueView> {
  try {
    return await deps.ctx.watch.busyWhile(() => deps.queue.enter(request, signal));
  } catch (error) {
    if (error instanceof RelayError && error.status === 404) {
      throw new Error(`${FIELD}: the relay has no deploy queue (${error.message}); update the relay (npx wrangler deploy) or remove deploymentConfig.ifDeploymentInProgress from the file`, { cause: error });
    }
    throw error;
  }
}

/** The report of a deployment the queue did not let start (rejected, replaced). */
function refused(ctx: EffectsContext, view: QueueView): RunReport {
  if (view.position === 'rejected') {
    return report(ctx, 'failed', `deployment of ${ctx.plan.application} rejected: ${inProgress(view.holder)} (${FIELD}: reject)`, []);
  }
  const by = view.replacedBy;
  return report(ctx, 'canceled', `replaced in the deploy queue by ${by ? by.runUrl || by.runId : 'a newer deployment'}`, []);
}

function inProgress(holder: QueueMember | null): string {
  if (!holder) return 'another deployment is in progress';
  return `${holder.runId} is in progress${holder.runUrl ? ` (${holder.runUrl})` : ''}`;
}

/** Every target of the job ends `outcome` with `message`; nothing of them ran. */
function report(ctx: EffectsContext, outcome: TargetOutcome, message: string, steps: StepReport[]): RunReport {
  const targets = ctx.plan.targets.map((t) => ({ target: t.name, outcome, message, steps, start: steps[0]?.start ?? null, end: steps[0]?.end ?? null }));
  return { deploymentId: ctx.settings.deploymentId, application: ctx.plan.application, result: outcome, targets };
}

/** The deployment's place in the queue: renewed while the job runs, left at its end, held while it is parked. */
export class QueuePlace {
  readonly deps: QueueDeps;
  readonly key: QueueKey;
  private stopRenewing: (() => void) | null = null;
  /**
   * The renewal on its way to the relay. stop() aborts it (its retries would otherwise hold up the
   * process's end); hold() and leave() wait for it to settle, so it never lands after them.
   */
  private renewing: { abort: AbortController; settled: Promise<void> } | null = null;
  private lost = false;
  private left = false;

  constructor(deps: QueueDeps, key: QueueKey) {
    this.deps = deps;
    this.key = key;
  }

  /** Renews every RENEW_EVERY_SECONDS until stopped; a timer that never keeps the process alive. */
  startRenewing(): void {
    if (this.stopRenewing) return;
    const every = this.deps.every ?? unrefInterval;
    this.stopRenewing = every(RENEW_EVERY_SECONDS * 1000, () => this.renew());
  }

  /** Stops renewing: the timer and the renewal in flight. */
  stop(): void {
    this.stopRenewing?.();
    this.stopRenewing = null;
    this.renewing?.abort.abort(new Error('the deploy queue place stopped renewing'));
  }

  /** The job ended: its target (one job per environment) or the whole deployment leaves; a failure is a warning. */
  async leave(target?: string): Promise<void> {
    this.left = true;
    this.stop();
    await this.renewing?.settled;
    await this.tell('leave', () => this.deps.queue.leave({ ...this.key, runId: this.runId, ...(target === undefined ? {} : { target }) }));
  }

  /** The job parked (or hands over to later steps): the place is kept until `until` (epoch ms), at most 30 days ahead. */
  async hold(until: number): Promise<void> {
    this.stop();
    await this.renewing?.settled;
    const now = this.deps.ctx.clock.now();
    const holdUntil = Math.round(Math.min(Math.max(until, now + LEASE_SECONDS * 1000), now + MAX_HOLD_SECONDS * 1000));
    await this.tell('hold', () => this.deps.queue.renew({ ...this.renewal, holdUntil }));
  }

  private get runId(): string {
    return this.deps.ctx.settings.deploymentId;
  }

  /** A renewal of this job: its target names its own hold (one job per environment). */
  private get renewal(): RenewQueueRequest {
    const target = this.deps.ctx.settings.target;
    return { ...this.key, runId: this.runId, ...(target === null ? {} : { target }) };
  }

  /** One renewal at a time: a tick while the last one still waits on a slow relay adds nothing. */
  private renew(): void {
    if (this.renewing) return;
    const abort = new AbortController();
    const settled = this.renewOnce(abort.signal).finally(() => {
      this.renewing = null;
    });
    this.renewing = { abort, settled };
  }

  /** Never rejects; a renewal stopped (the job left or parked) tells nothing. */
  private async renewOnce(signal: AbortSignal): Promise<void> {
    let view: QueueView;
    try {
      view = await this.deps.queue.renew(this.renewal, signal);
    } catch (error) {
      if (!signal.aborted) this.warnNotTold('renew', error);
      return;
    }
    if (signal.aborted || this.left || this.lost || (view.position !== 'gone' && view.position !== 'replaced')) return;
    this.lost = true;
    this.deps.ctx.log.warning(`hookgate: this deployment lost its place in the deploy queue of ${this.key.application} (${view.position}): another deployment may start meanwhile`);
  }

  private async tell(what: string, call: () => Promise<QueueView>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.warnNotTold(what, error);
    }
  }

  private warnNotTold(what: string, error: unknown): void {
    this.deps.ctx.log.warning(`hookgate: could not ${what} the deploy queue of ${this.key.application} at the relay: ${errorMessage(error)}`);
  }
}

/** The latest deadline among a parked job's gates plus a lease for its resume to start, as the hold's end. */
export function parkedHoldUntil(deadlines: readonly number[], now: number): number {
  return Math.max(now, ...deadlines) + LEASE_SECONDS * 1000;
}

function unrefInterval(ms: number, tick: () => void): () => void {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
}

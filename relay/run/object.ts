/**
 * One Durable Object per deployment run: it owns the run's gates, target records and
 * owner in SQLite (relay/run/store.ts), wakes long-polls the moment a decision is stored,
 * and keeps one alarm (relay/run/alarm.ts) for gate deadlines and the run's deletion.
 * It answers domain results (relay/run/results.ts); HTTP is the edge's business.
 */
import { DurableObject } from 'cloudflare:workers';
import type { CallbackBody, GateState, GateView, RegisterGate } from '../../shared/protocol.ts';
import {
  FINAL_TARGET_STATUSES,
  GONE_STATES,
  MAX_CALLBACKS_PER_GATE_PER_MINUTE,
  MAX_GATES_PER_RUN,
  MAX_TARGETS_PER_RUN,
  MAX_WAIT_SECONDS,
} from '../../shared/protocol.ts';
import { AlarmClock, expired, nextAlarm } from './alarm.ts';
import type { RunEnv } from './env.ts';
import { mayAct, ownerFor, runIdAdmits } from './owner.ts';
import type { OwnerRow } from './owner.ts';
import type { Principal } from './principal.ts';
import { SlidingWindow } from './rate-limit.ts';
import type * as R from './results.ts';
import { superseded } from './results.ts';
import { DEFAULT_RETENTION_MS, retentionMs } from './retention.ts';
import type { GateRow, TargetRow } from './rows.ts';
import { hasProgressAfter, newGateRow, requiredRoles, targetRecord } from './rows.ts';
import { migrate } from './schema.ts';
import { RunStore } from './store.ts';
import { Waiters } from './waiters.ts';

const FORBIDDEN: R.Forbidden = { ok: false, reason: 'forbidden' };
const NOT_FOUND: R.NotFound = { ok: false, reason: 'not-found' };

export class RunObject extends DurableObject<RunEnv> {
  private readonly runStore: RunStore;
  /** False until the schema is in place: at start, and again once the run's storage was deleted. */
  private schemaReady = false;
  private readonly alarmClock: AlarmClock;
  private readonly retentionMs: number;
  /** Long-polls on gates, woken with the stored view. */
  private readonly gateWaiters = new Waiters<GateView>();
  /** Long-polls on target records, woken with the stored row when it becomes final. */
  private readonly targetWaiters = new Waiters<TargetRow | undefined>();
  /** The run's owner once known (claimed or read); undefined: nobody has written to the run yet, or not read yet. */
  private owner: OwnerRow | undefined = undefined;
  /**
   * POSTs per gate a minute, in memory only (see SlidingWindow): decisions (callback URI and
   * approval page) and progress reports each have their own budget, so reports never use up
   * the decision's.
   */
  private readonly decisionPosts = new SlidingWindow(MAX_CALLBACKS_PER_GATE_PER_MINUTE, 60_000);
  private readonly progressPosts = new SlidingWindow(MAX_CALLBACKS_PER_GATE_PER_MINUTE, 60_000);

  constructor(ctx: DurableObjectState, env: RunEnv) {
    super(ctx, env);
    this.runStore = new RunStore(ctx.storage.sql);
    this.alarmClock = new AlarmClock(ctx.storage);
    // The edge refuses a bad RETENTION_DAYS (503); an alarm has no one to tell, so it keeps the default.
    this.retentionMs = retentionMs(env.RETENTION_DAYS) ?? DEFAULT_RETENTION_MS;
    void ctx.blockConcurrencyWhile(async () => this.store);
  }

  /** The run's tables, created or migrated first if needed (synchronous: no request runs in between). */
  private get store(): RunStore {
    if (!this.schemaReady) {
      migrate(this.ctx.storage);
      this.schemaReady = true;
    }
    return this.runStore;
  }

  /**
   * Registers a gate, or returns the one this run + step key already has; refuses an attempt
   * a re-run superseded, a new gate past MAX_GATES_PER_RUN, and a caller whose repository does not own the run.
   */
  async register(caller: Principal, request: RegisterGate, gate: R.NewGate): Promise<R.RegisterResult> {
    if (!this.admit(caller, request.runId, true)) return FORBIDDEN;
    // Nothing awaits from here to the insert: concurrent retries of one registration find each other's row.
    const highest = this.store.highestAttempt(request.target);
    if (request.attempt < highest) return superseded(request.attempt, highest, request.target);
    const existing = this.store.gateByStepKey(request.stepKey);
    if (existing && existing.attempt !== request.attempt) {
      const message = `step key ${request.stepKey} belongs to attempt ${existing.attempt}; each attempt needs its own step keys`;
      return { ok: false, reason: 'conflict', message };
    }
    if (request.run) this.store.saveRunInfo(request.run);
    if (existing) {
      const links = { callbackUri: existing.callback_uri, approvalUrl: existing.approval_url };
      return { ok: true, gate: { ...this.store.view(existing), ...links, created: false } };
    }

    // Counted in the same synchronous stretch as the insert: concurrent registrations cannot overshoot.
    const count = this.store.gateCount();
    if (count >= MAX_GATES_PER_RUN) return { ok: false, reason: 'too-many-gates', count };

    this.supersedeEarlier(request.target, request.attempt);
    const row = newGateRow(request, gate, Date.now());
    this.store.insertGate(row);
    await this.rearmAlarm();
    return { ok: true, gate: { ...this.store.view(row), callbackUri: gate.callbackUri, approvalUrl: gate.approvalUrl, created: true } };
  }

  /**
   * The gate's view at once if decided or holding a report numbered above `seen` (the caller's
   * latest), else when it is decided or gets a report, or after `waitSeconds`.
   */
  async wait(caller: Principal, runId: string, gateId: string, waitSeconds: number, seen?: number): Promise<R.WaitResult> {
    if (!this.admit(caller, runId, false)) return FORBIDDEN;
    const row = await this.currentRow(gateId);
    if (!row) return NOT_FOUND;
    const gate = this.store.view(row);
    if (gate.state !== 'pending' || waitSeconds <= 0 || hasProgressAfter(gate, seen)) return { ok: true, gate };
    const windowMs = Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
    const woken = await this.gateWaiters.wait(gateId, windowMs, () => {
      const latest = this.store.gate(gateId);
      return latest ? this.store.view(latest) : gate;
    });
    return { ok: true, gate: woken };
  }

  /**
   * Applies a callback to a webhook gate: the first decision wins; progress reports are appended.
   * An approval gate is decided on its page only: to its callback URI it does not exist.
   */
  async callback(gateId: string, body: CallbackBody): Promise<R.DecisionResult> {
    const found = this.store.gate(gateId);
    if (found?.kind !== 'webhook') return NOT_FOUND;
    const isProgress = 'progress' in body;
    const retryAfterSeconds = (isProgress ? this.progressPosts : this.decisionPosts).take(gateId);
    if (retryAfterSeconds > 0) return { ok: false, reason: 'rate-limited', retryAfterSeconds };
    const row = await this.currentRow(gateId, found);
    if (!row) return NOT_FOUND;
    if (GONE_STATES.includes(row.state)) return { ok: false, reason: 'final', gate: this.store.view(row) };

    const message = body.mdMessage ?? null;
    if (isProgress) {
      if (row.state !== 'pending') return { ok: false, reason: 'conflict', gate: this.store.view(row) };
      this.store.addProgress(gateId, message ?? '');
      const gate = this.store.view(row);
      this.gateWaiters.wake(gateId, gate);
      return { ok: true, gate };
    }

    const state: GateState = body.success ? 'succeeded' : 'failed';
    if (row.state !== 'pending') {
      // A repeat of the recorded decision is harmless (a retrying sender); a different one is refused.
      const gate = this.store.view(row);
      return row.state === state ? { ok: true, gate } : { ok: false, reason: 'conflict', gate };
    }
    return { ok: true, gate: await this.decide(row, state, message, null) };
  }

  /** Records a person's decision on an approval gate: the first one wins, any later one is a conflict. */
  async approve(gateId: string, decision: R.ApprovalDecision): Promise<R.DecisionResult> {
    const retryAfterSeconds = this.decisionPosts.take(gateId);
    if (retryAfterSeconds > 0) return { ok: false, reason: 'rate-limited', retryAfterSeconds };
    const row = await this.currentRow(gateId);
    if (row?.kind !== 'approval') return NOT_FOUND;
    if (GONE_STATES.includes(row.state)) return { ok: false, reason: 'final', gate: this.store.view(row) };
    if (row.state !== 'pending') return { ok: false, reason: 'conflict', gate: this.store.view(row) };
    const comment = decision.comment.trim();
    const approver = decision.approver.trim() || 'anonymous';
    const gate = await this.decide(row, decision.approved ? 'succeeded' : 'failed', comment === '' ? null : comment, approver);
    return { ok: true, gate };
  }

  /** What this gate's approval page shows, and no more (page-limits.ts); null when it is not an approval gate of this run. */
  async approvalPage(gateId: string): Promise<R.ApprovalPage | null> {
    if (this.store.hasDue()) await this.expireDue();
    const row = this.store.gate(gateId);
    if (row?.kind !== 'approval') return null;
    const shown = this.store.pageGates(gateId, row.target, row.attempt);
    const gate = shown.gates.find((sibling) => sibling.gateId === gateId) ?? this.store.view(row);
    return { gate, requiresRoles: requiredRoles(row), run: this.store.runInfo(), ...shown };
  }

  /**
   * Cancels pending gates: those listed, else those of `target`, else all. Without a
   * list, the covered targets still `running` are recorded `canceled`. Late callbacks find them final.
   */
  async cancelRun(caller: Principal, request: R.CancelRun): Promise<R.CancelResult> {
    if (!this.admit(caller, request.runId, true)) return FORBIDDEN;
    const { gateIds, target, reason } = request;
    const canceled = this.store.cancel(reason, gateIds ? { gateIds } : target !== undefined ? { target } : 'all');
    for (const row of canceled) this.gateWaiters.wake(row.id, this.store.view(row));
    if (!gateIds) {
      for (const row of this.store.cancelRunningTargets(reason, target)) this.targetWaiters.wake(row.target, row);
    }
    await this.rearmAlarm();
    return { ok: true, canceled: canceled.map((row) => row.id) };
  }

  /**
   * Records a job's report on its target. An older attempt than the run has seen is refused;
   * within an attempt a final status is final; a newer attempt supersedes the older one's pending gates.
   */
  async reportTarget(caller: Principal, request: R.ReportTarget): Promise<R.ReportResult> {
    if (!this.admit(caller, request.runId, true)) return FORBIDDEN;
    const current = this.store.target(request.target);
    const record = targetRecord(request.runId, request.target, current);
    const highest = this.store.highestAttempt(request.target);
    if (request.attempt < highest) return { ...superseded(request.attempt, highest, request.target), record };
    if (current?.attempt === request.attempt && FINAL_TARGET_STATUSES.includes(current.status)) {
      if (current.status === request.status) return { ok: true, record };
      const message = `target ${request.target} already ended ${current.status} in attempt ${current.attempt}; a final status does not change`;
      return { ok: false, reason: 'conflict', message, record };
    }
    if (!current) {
      const count = this.store.targetCount();
      if (count >= MAX_TARGETS_PER_RUN) return { ok: false, reason: 'too-many-targets', count };
    }

    this.supersedeEarlier(request.target, request.attempt);
    const stored = this.store.saveTarget(request.target, request.attempt, request.status, request.message);
    if (FINAL_TARGET_STATUSES.includes(stored.status)) this.targetWaiters.wake(request.target, stored);
    // A run of target records only needs its deletion alarm too.
    await this.rearmAlarm();
    return { ok: true, record: targetRecord(request.runId, request.target, stored) };
  }

  /** The target's record at once if final (or `waitSeconds` is 0), else when it becomes final or after the window. */
  async waitTarget(caller: Principal, runId: string, target: string, waitSeconds: number): Promise<R.TargetResult> {
    if (!this.admit(caller, runId, false)) return FORBIDDEN;
    const row = this.store.target(target);
    if ((row && FINAL_TARGET_STATUSES.includes(row.status)) || waitSeconds <= 0) {
      return { ok: true, record: targetRecord(runId, target, row) };
    }
    const windowMs = Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
    const latest = await this.targetWaiters.wait(target, windowMs, () => this.store.target(target));
    return { ok: true, record: targetRecord(runId, target, latest) };
  }

  /**
   * Stores `timed-out` for every gate whose deadline passed, whether or not anyone waits;
   * then deletes the whole run once nothing is pending and nothing was written for the retention time.
   */
  override async alarm(): Promise<void> {
    this.alarmClock.forget();
    await this.expireDue();
    if (!expired(this.store, this.retentionMs, Date.now())) {
      await this.rearmAlarm();
      return;
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.schemaReady = false;
    this.owner = undefined;
  }

  /**
   * Whether `caller` may act on this run; a write (`claim`) by the first caller makes the run
   * its own. Synchronous, so no other request runs between the check and the claim.
   */
  private admit(caller: Principal, runId: string, claim: boolean): boolean {
    if (!runIdAdmits(runId, caller)) return false;
    // An owner never changes once stored: read it once, not on every long-poll.
    const owner = (this.owner ??= this.store.owner());
    if (owner === undefined && claim) {
      this.owner = ownerFor(caller, Date.now());
      this.store.claimOwner(this.owner);
    }
    return mayAct(owner, caller);
  }

  /** Stores a decision on a pending gate, wakes its polls and moves the alarm. */
  private async decide(row: GateRow, state: GateState, message: string | null, decidedBy: string | null): Promise<GateView> {
    const decided = this.store.view(this.store.decide(row.id, state, message, decidedBy) ?? row);
    this.gateWaiters.wake(row.id, decided);
    await this.rearmAlarm();
    return decided;
  }

  /** A re-run's first word on a target ends the pending gates its earlier attempts left behind (not those past their deadline). */
  private supersedeEarlier(target: string, attempt: number): void {
    for (const row of this.store.supersedeEarlier(target, attempt)) this.gateWaiters.wake(row.id, this.store.view(row));
  }

  /** Times out every pending gate whose deadline has passed; re-arms the alarm when one did. */
  private async expireDue(): Promise<void> {
    const expiredGates = this.store.expireDue();
    for (const row of expiredGates) this.gateWaiters.wake(row.id, this.store.view(row));
    if (expiredGates.length > 0) await this.rearmAlarm();
  }

  private rearmAlarm(): Promise<void> {
    return this.alarmClock.arm(nextAlarm(this.store, this.retentionMs));
  }

  /**
   * The gate's row, timed out first if its deadline passed: the deadline, not the
   * alarm's punctuality, ends a gate (an alarm may run late).
   */
  private async currentRow(gateId: string, row = this.store.gate(gateId)): Promise<GateRow | undefined> {
    if (row?.state !== 'pending' || row.deadline > Date.now()) return row;
    await this.expireDue();
    return this.store.gate(gateId);
  }
}

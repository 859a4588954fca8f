/**
 * One Durable Object per deployment run: it owns the run's gates, target records and
 * owner in SQLite (relay/run/store.ts), wakes long-polls the moment a decision is stored,
 * and fires gate deadlines with a single alarm re-armed for the nearest one.
 */
import { DurableObject } from 'cloudflare:workers';
import type { CallbackBody, GateState, GateView, RegisterGate } from '../../shared/protocol.ts';
import {
  FINAL_TARGET_STATUSES,
  GONE_STATES,
  MAX_CALLBACKS_PER_GATE_PER_MINUTE,
  MAX_GATES_PER_RUN,
  MAX_WAIT_SECONDS,
} from '../../shared/protocol.ts';
import type { Principal } from '../worker/auth.ts';
import { randomId } from '../tokens/crypto.ts';
import type { Env } from '../worker/env.ts';
import { mintGateToken } from '../tokens/gate-token.ts';
import { SlidingWindow } from './rate-limit.ts';
import type { GateRow, TargetRow } from './rows.ts';
import { requiredRoles, targetRecord } from './rows.ts';
import { mayAct, ownerFor } from './owner.ts';
import type { OwnerRow } from './owner.ts';
import type {
  ApprovalDecision,
  ApprovalPage,
  CancelResult,
  DecisionResult,
  Forbidden,
  RegisterResult,
  ReportResult,
  ReportTarget,
  TargetResult,
  WaitResult,
} from './results.ts';
import { superseded } from './results.ts';
import { RunStore } from './store.ts';
import { migrate } from './schema.ts';
import { Waiters } from './waiters.ts';

const FORBIDDEN: Forbidden = { status: 403 };

export class RunObject extends DurableObject<Env> {
  private readonly store: RunStore;
  /** The alarm time this instance last set or read; undefined until known. */
  private armedAlarm: number | null | undefined = undefined;
  /** Long-polls on gates, woken with the stored view. */
  private readonly gateWaiters = new Waiters<GateView>();
  /** Long-polls on target records, woken with the stored row when it becomes final. */
  private readonly targetWaiters = new Waiters<TargetRow | undefined>();
  /** The run's owner once known (claimed or read); undefined: nobody has written to the run yet, or not read yet. */
  private owner: OwnerRow | undefined = undefined;
  /** POSTs per gate through its callback URI and approval page, in memory only (see SlidingWindow). */
  private readonly gatePosts = new SlidingWindow(MAX_CALLBACKS_PER_GATE_PER_MINUTE, 60_000);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new RunStore(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage));
  }

  /**
   * Registers a gate, or returns the one this run + step key already has; refuses an attempt
   * a re-run superseded, a new gate past MAX_GATES_PER_RUN, and a caller whose repository does not own the run.
   */
  async register(caller: Principal, request: RegisterGate, base: string): Promise<RegisterResult> {
    if (!this.admit(caller, true)) return FORBIDDEN;
    const secret = this.env.CALLBACK_SECRET;
    if (!secret) throw new Error('CALLBACK_SECRET is not configured');
    const root = base.replace(/\/+$/, '');
    const id = randomId(16);
    const callbackUri = `${root}/cb/${await mintGateToken(secret, 'callback', request.runId, id)}`;
    const approvalUrl =
      request.kind === 'approval' ? `${root}/approve/${await mintGateToken(secret, 'approval', request.runId, id)}` : null;

    // Nothing awaits from here to the insert: concurrent retries of one registration find each other's row.
    const highest = this.store.highestAttempt(request.target);
    if (request.attempt < highest) return superseded(request.attempt, highest, request.target);
    const existing = this.store.gateByStepKey(request.stepKey);
    if (existing && existing.attempt !== request.attempt) {
      return {
        status: 409,
        error: 'conflict',
        message: `step key ${request.stepKey} belongs to attempt ${existing.attempt}; each attempt needs its own step keys`,
      };
    }
    if (request.run) this.store.saveRunInfo(request.run);
    if (existing) {
      const gate = { ...this.store.view(existing), callbackUri: existing.callback_uri, approvalUrl: existing.approval_url };
      return { status: 200, gate: { ...gate, created: false } };
    }

    // Counted in the same synchronous stretch as the insert: concurrent registrations cannot overshoot.
    const count = this.store.gateCount();
    if (count >= MAX_GATES_PER_RUN) return { status: 422, count };

    this.supersedeEarlier(request.target, request.attempt);
    const now = Date.now();
    const row: GateRow = {
      id,
      run_id: request.runId,
      step_key: request.stepKey,
      target: request.target,
      phase: request.phase,
      name: request.name,
      kind: request.kind,
      attempt: request.attempt,
      state: 'pending',
      message: null,
      decided_by: null,
      requires_roles: JSON.stringify(request.requiresRoles),
      created_at: now,
      deadline: now + request.timeoutSeconds * 1000,
      decided_at: null,
      callback_uri: callbackUri,
      approval_url: approvalUrl,
    };
    this.store.insertGate(row);
    await this.rearmAlarm();
    return { status: 201, gate: { ...this.store.view(row), callbackUri, approvalUrl, created: true } };
  }

  /** The gate's view at once if decided, else when it is decided or after `waitSeconds`. */
  async wait(caller: Principal, gateId: string, waitSeconds: number): Promise<WaitResult> {
    if (!this.admit(caller, false)) return FORBIDDEN;
    const row = await this.currentRow(gateId);
    if (!row) return { status: 404 };
    const gate = this.store.view(row);
    if (gate.state !== 'pending' || waitSeconds <= 0) return { status: 200, gate };
    const windowMs = Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
    const woken = await this.gateWaiters.wait(gateId, windowMs, () => {
      const latest = this.store.gate(gateId);
      return latest ? this.store.view(latest) : gate;
    });
    return { status: 200, gate: woken };
  }

  /** Applies a callback: the first decision wins; progress reports are appended. */
  async callback(gateId: string, body: CallbackBody): Promise<DecisionResult> {
    const retryAfterSeconds = this.gatePosts.take(gateId);
    if (retryAfterSeconds > 0) return { status: 429, retryAfterSeconds };
    const row = await this.currentRow(gateId);
    if (!row) return { status: 404 };
    if (GONE_STATES.includes(row.state)) return { status: 410, gate: this.store.view(row) };

    const message = body.mdMessage ?? null;
    if ('progress' in body) {
      if (row.state !== 'pending') return { status: 409, gate: this.store.view(row) };
      this.store.addProgress(gateId, message ?? '');
      const gate = this.store.view(row);
      this.gateWaiters.wake(gateId, gate);
      return { status: 200, gate };
    }

    const state: GateState = body.success ? 'succeeded' : 'failed';
    if (row.state !== 'pending') {
      // A repeat of the recorded decision is harmless (a retrying sender); a different one is refused.
      return { status: row.state === state ? 200 : 409, gate: this.store.view(row) };
    }
    return { status: 200, gate: await this.decide(row, state, message, null) };
  }

  /** Records a person's decision on an approval gate: the first one wins, any later one gets 409. */
  async approve(gateId: string, decision: ApprovalDecision): Promise<DecisionResult> {
    const retryAfterSeconds = this.gatePosts.take(gateId);
    if (retryAfterSeconds > 0) return { status: 429, retryAfterSeconds };
    const row = await this.currentRow(gateId);
    if (row?.kind !== 'approval') return { status: 404 };
    if (GONE_STATES.includes(row.state)) return { status: 410, gate: this.store.view(row) };
    if (row.state !== 'pending') return { status: 409, gate: this.store.view(row) };
    const comment = decision.comment.trim();
    const gate = await this.decide(
      row,
      decision.approved ? 'succeeded' : 'failed',
      comment === '' ? null : comment,
      decision.approver.trim() || 'anonymous',
    );
    return { status: 200, gate };
  }

  /** What the approval page of this gate shows; null when it is not an approval gate of this run. */
  async approvalPage(gateId: string): Promise<ApprovalPage | null> {
    if (this.store.hasDue()) await this.expireDue();
    const row = this.store.gate(gateId);
    if (row?.kind !== 'approval') return null;
    return {
      gate: this.store.view(row),
      requiresRoles: requiredRoles(row),
      run: this.store.runInfo(),
      gates: this.store.gatesOf(row.target, row.attempt).map((sibling) => this.store.view(sibling)),
    };
  }

  /**
   * Cancels pending gates: those listed, else those of `target`, else all. Without a
   * list, the covered targets still `running` are recorded `canceled`. Late callbacks get 410.
   */
  async cancelRun(caller: Principal, reason: string, gateIds?: readonly string[], target?: string): Promise<CancelResult> {
    if (!this.admit(caller, true)) return FORBIDDEN;
    const canceled = this.store.cancel(reason, gateIds ? { gateIds } : target !== undefined ? { target } : 'all');
    for (const row of canceled) this.gateWaiters.wake(row.id, this.store.view(row));
    if (!gateIds) {
      for (const row of this.store.cancelRunningTargets(reason, target)) this.targetWaiters.wake(row.target, row);
    }
    await this.rearmAlarm();
    return { status: 200, canceled: canceled.map((row) => row.id) };
  }

  /**
   * Records a job's report on its target. An older attempt than the run has seen is refused;
   * within an attempt a final status is final; a newer attempt supersedes the older one's pending gates.
   */
  async reportTarget(caller: Principal, request: ReportTarget): Promise<ReportResult> {
    if (!this.admit(caller, true)) return FORBIDDEN;
    const current = this.store.target(request.target);
    const record = targetRecord(request.runId, request.target, current);
    const highest = this.store.highestAttempt(request.target);
    if (request.attempt < highest) return { ...superseded(request.attempt, highest, request.target), record };
    if (current?.attempt === request.attempt && FINAL_TARGET_STATUSES.includes(current.status)) {
      if (current.status === request.status) return { status: 200, record };
      return {
        status: 409,
        error: 'conflict',
        message:
          `target ${request.target} already ended ${current.status} in attempt ${current.attempt};` +
          ' a final status does not change',
        record,
      };
    }

    const supersededAny = this.supersedeEarlier(request.target, request.attempt);
    const stored = this.store.saveTarget(request.target, request.attempt, request.status, request.message);
    if (FINAL_TARGET_STATUSES.includes(stored.status)) this.targetWaiters.wake(request.target, stored);
    if (supersededAny) await this.rearmAlarm();
    return { status: 200, record: targetRecord(request.runId, request.target, stored) };
  }

  /** The target's record at once if final (or `waitSeconds` is 0), else when it becomes final or after the window. */
  async waitTarget(caller: Principal, runId: string, target: string, waitSeconds: number): Promise<TargetResult> {
    if (!this.admit(caller, false)) return FORBIDDEN;
    const row = this.store.target(target);
    if ((row && FINAL_TARGET_STATUSES.includes(row.status)) || waitSeconds <= 0) {
      return { status: 200, record: targetRecord(runId, target, row) };
    }
    const windowMs = Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
    const latest = await this.targetWaiters.wait(target, windowMs, () => this.store.target(target));
    return { status: 200, record: targetRecord(runId, target, latest) };
  }

  /** Stores `timed-out` for every gate whose deadline passed, whether or not anyone waits. */
  override async alarm(): Promise<void> {
    // A fired alarm is no longer set.
    this.armedAlarm = null;
    await this.expireDue();
    await this.rearmAlarm();
  }

  /**
   * Whether `caller` may act on this run; a write (`claim`) by the first caller makes the run
   * its own. Synchronous, so no other request runs between the check and the claim.
   */
  private admit(caller: Principal, claim: boolean): boolean {
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

  /**
   * A re-run's first word on a target ends the pending gates its earlier attempts left
   * behind; true when it ended any. Gates already past their deadline are left to time out.
   */
  private supersedeEarlier(target: string, attempt: number): boolean {
    const superseded = this.store.supersedeEarlier(target, attempt);
    for (const row of superseded) this.gateWaiters.wake(row.id, this.store.view(row));
    return superseded.length > 0;
  }

  /** Times out every pending gate whose deadline has passed; re-arms the alarm when one did. */
  private async expireDue(): Promise<void> {
    const expired = this.store.expireDue();
    for (const row of expired) this.gateWaiters.wake(row.id, this.store.view(row));
    if (expired.length > 0) await this.rearmAlarm();
  }

  private async rearmAlarm(): Promise<void> {
    const next = this.store.nextDeadline();
    // The armed time is remembered so most callbacks skip the storage round trip of getAlarm
    // (about 5% of a callback's CPU in the bench's profile). An alarm that fired is no longer
    // armed: alarm() forgets it first. undefined = not known in this instance yet.
    if (this.armedAlarm === undefined) this.armedAlarm = await this.ctx.storage.getAlarm();
    if (next === this.armedAlarm) return;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
    this.armedAlarm = next;
  }

  /**
   * The gate's row, timed out first if its deadline passed: the deadline, not the
   * alarm's punctuality, ends a gate (an alarm may run late).
   */
  private async currentRow(gateId: string): Promise<GateRow | undefined> {
    const row = this.store.gate(gateId);
    if (row?.state !== 'pending' || row.deadline > Date.now()) return row;
    await this.expireDue();
    return this.store.gate(gateId);
  }
}

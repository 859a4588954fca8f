/**
 * One Durable Object per deployment run: it owns the run's gates, target records and
 * owner in SQLite (relay/run/store.ts), wakes long-polls the moment a decision is stored,
 * delegates parking to relay/run/parking.ts, callbacks' effects to callbacks.ts and signed-in
 * approvals to approvals.ts, GitHub's deployment protection rule to protection.ts, and keeps one alarm
 * (relay/run/alarm.ts) for gate deadlines and heartbeats (heartbeats.ts), resume dispatches, rule answers and the run's deletion.
 * It answers domain results (relay/run/results.ts); HTTP is the edge's business.
 */
import { DurableObject } from 'cloudflare:workers';
import type { JournalRequest, ParkRequest, ResumeRequest, UnparkRequest } from '../../shared/park.ts';
import type { CallbackBody, GateCalledRequest, GateState, GateView, Outputs, RegisterGate } from '../../shared/protocol.ts';
import { FINAL_TARGET_STATUSES, GONE_STATES, MAX_WAIT_SECONDS } from '../../shared/protocol.ts';
import { AlarmClock, expired, nextAlarm } from './alarm.ts';
import type { RunEnv } from './env.ts';
import { Ownership } from './owner.ts';
import { emptyView, nothingParked, Parking } from './parking.ts';
import { Protection } from './protection.ts';
import { ruleAnswered } from './rule-answered.ts';
import type { ProtectionRequest, ProtectionResult } from './protection.ts';
import type { Principal } from './principal.ts';
import { GatePosts } from './rate-limit.ts';
import type * as R from './results.ts';
import { DEFAULT_RETENTION_MS, retentionMs } from './retention.ts';
import type { GateRow, TargetRow } from './rows.ts';
import { hasProgressAfter, newGateRow, targetRecord } from './rows.ts';
import { Approvals } from './approvals.ts';
import { sendDue } from './resume-sender.ts';
import type { RunStore } from './store.ts';
import { RunTables } from './tables.ts';
import { checkRegister, checkReport } from './checks.ts';
import { callbackStep } from './callbacks.ts';
import { Waiters } from './waiters.ts';
import { gateDue, Heartbeats } from './heartbeats.ts';
import { approvalPageData } from './page-data.ts';

const FORBIDDEN: R.Forbidden = { ok: false, reason: 'forbidden' };
const NOT_FOUND: R.NotFound = { ok: false, reason: 'not-found' };

export class RunObject extends DurableObject<RunEnv> {
  /** The run's tables: created by a write, only read when they exist (relay/run/tables.ts). */
  private readonly tables = new RunTables(this.ctx.storage);
  private readonly alarmClock = new AlarmClock(this.ctx.storage);
  private readonly retentionMs: number;
  /** Long-polls on gates, woken with the stored view. */
  private readonly gateWaiters = new Waiters<GateView>();
  /** Long-polls on target records, woken with the stored row when it becomes final. */
  private readonly targetWaiters = new Waiters<TargetRow | undefined>();
  private readonly ownership = new Ownership(() => this.tables.existing(), () => this.store);
  private readonly parking: Parking;
  private readonly protection: Protection;
  /** POSTs per gate a minute, in memory only (relay/run/rate-limit.ts). */
  private readonly posts = new GatePosts();
  private readonly approvals = new Approvals(this.ctx.storage.sql);
  private readonly heartbeats = new Heartbeats(this.ctx.storage.sql);

  constructor(ctx: DurableObjectState, env: RunEnv) {
    super(ctx, env);
    this.parking = new Parking(ctx.storage.sql, env, (job) => this.protection.resumesJob(job));
    this.protection = new Protection(ctx.storage.sql, env, (target, answer, now) =>
      ruleAnswered({ parking: this.parking, store: this.store, targetWaiters: this.targetWaiters }, target, answer, now),
    );
    // The edge refuses a bad RETENTION_DAYS (503); an alarm has no one to tell, so it keeps the default.
    this.retentionMs = retentionMs(env.RETENTION_DAYS) ?? DEFAULT_RETENTION_MS;
    void ctx.blockConcurrencyWhile(async () => this.tables.existing());
  }

  /** The run's tables, created or migrated first if needed (synchronous: no request runs in between). */
  private get store(): RunStore {
    return this.tables.created();
  }

  /**
   * Registers a gate, or returns the one this run + step key already has; refuses an attempt
   * a re-run superseded, a new gate past MAX_GATES_PER_RUN, and a caller whose repository does not own the run.
   */
  async register(caller: Principal, request: RegisterGate, gate: R.NewGate): Promise<R.RegisterResult> {
    if (!this.ownership.admit(caller, request.runId, true)) return FORBIDDEN;
    // Nothing awaits from here to the insert: concurrent retries of one registration find each other's row.
    const checked = checkRegister(this.store, request);
    if ('refusal' in checked) return checked.refusal;
    if (request.run) this.store.saveRunInfo(request.run);
    const existing = checked.existing;
    if (existing) {
      const links = { callbackUri: existing.callback_uri, approvalUrl: existing.approval_url };
      return { ok: true, gate: { ...this.store.view(existing), ...links, created: false } };
    }
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
    if (!this.ownership.admit(caller, runId, false)) return FORBIDDEN;
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
    const found = this.tables.existing()?.gate(gateId);
    if (found?.kind !== 'webhook') return NOT_FOUND;
    const retryAfterSeconds = this.posts.take(gateId, 'progress' in body ? 'progress' : 'decision');
    if (retryAfterSeconds > 0) return { ok: false, reason: 'rate-limited', retryAfterSeconds };
    const row = await this.currentRow(gateId, found);
    if (!row) return NOT_FOUND;
    const step = callbackStep(this.store, this.heartbeats, row, body, Date.now());
    if (step.kind === 'decide') return { ok: true, gate: await this.decide(row, step.state, step.message, null, step.outputs) };
    if (step.wake && step.result.ok) this.gateWaiters.wake(gateId, step.result.gate);
    return step.result;
  }

  /** POST /v1/gates/called: the webhook's first call starts the gate's heartbeat clock (heartbeats.ts); no claim: a gate exists only in an owned run. */
  async called(caller: Principal, request: GateCalledRequest): Promise<R.WaitResult> {
    if (!this.ownership.admit(caller, request.runId, false)) return FORBIDDEN;
    const row = await this.currentRow(request.gateId);
    if (row?.kind !== 'webhook') return NOT_FOUND;
    if (this.heartbeats.called(row.id, Date.now())) await this.rearmAlarm();
    return { ok: true, gate: this.store.view(this.store.gate(row.id) ?? row) };
  }

  /** What a gate is and how it stands (POST /v1/queue/enter checks its wake gate); reads only, creating no storage. */
  async gateInfo(caller: Principal, runId: string, gateId: string): Promise<R.GateInfoResult> {
    if (!this.ownership.admit(caller, runId, false)) return FORBIDDEN;
    const row = await this.currentRow(gateId);
    return row ? { ok: true, gate: { kind: row.kind, name: row.name, phase: row.phase, attempt: row.attempt, state: row.state } } : NOT_FOUND;
  }

  /** Records a decision on an approval gate: anonymous, the first decides; signed in, as relay/run/approvals.ts counts. */
  async approve(gateId: string, decision: R.ApprovalDecision): Promise<R.ApprovalResult> {
    const retryAfterSeconds = this.posts.take(gateId, 'decision');
    if (retryAfterSeconds > 0) return { ok: false, reason: 'rate-limited', retryAfterSeconds };
    const row = await this.currentRow(gateId);
    if (row?.kind !== 'approval') return NOT_FOUND;
    if (GONE_STATES.includes(row.state)) return { ok: false, reason: 'final', gate: this.store.view(row) };
    if (row.state !== 'pending') return { ok: false, reason: 'conflict', gate: this.store.view(row) };
    const outcome = this.approvals.record(row, decision, decision.comment.trim(), Date.now());
    if (!outcome.ok) return outcome.reason === 'duplicate' ? { ...outcome, gate: this.store.view(row) } : outcome;
    if (outcome.decide === null) return { ok: true, gate: this.store.view(row) };
    const { state, message, decidedBy } = outcome.decide;
    return { ok: true, gate: await this.decide(row, state, message, decidedBy) };
  }

  /** What this gate's approval page shows, and no more (page-limits.ts); null when it is not an approval gate of this run. */
  async approvalPage(gateId: string): Promise<R.ApprovalPage | null> {
    if (!this.tables.existing()) return null;
    if (this.store.hasDue()) await this.expireDue();
    return approvalPageData({ store: this.store, approvals: this.approvals, parking: this.parking, sql: this.ctx.storage.sql }, gateId);
  }

  /**
   * Cancels pending gates: those listed, else those of `target`, else all. Without a
   * list, the covered targets still `running` are recorded `canceled`. Late callbacks find them final.
   */
  async cancelRun(caller: Principal, request: R.CancelRun): Promise<R.CancelResult> {
    if (!this.ownership.admit(caller, request.runId, true)) return FORBIDDEN;
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
    if (!this.ownership.admit(caller, request.runId, true)) return FORBIDDEN;
    const refused = checkReport(this.store, request);
    if (refused) return refused;
    this.supersedeEarlier(request.target, request.attempt);
    const stored = this.store.saveTarget(request.target, request.attempt, request.status, request.message);
    if (FINAL_TARGET_STATUSES.includes(stored.status)) this.targetWaiters.wake(request.target, stored);
    // A run of target records only needs its deletion alarm too.
    await this.rearmAlarm();
    return { ok: true, record: targetRecord(request.runId, request.target, stored) };
  }

  /** The target's record at once if final (or `waitSeconds` is 0), else when it becomes final or after the window. */
  async waitTarget(caller: Principal, runId: string, target: string, waitSeconds: number): Promise<R.TargetResult> {
    if (!this.ownership.admit(caller, runId, false)) return FORBIDDEN;
    const row = this.tables.existing()?.target(target);
    if ((row && FINAL_TARGET_STATUSES.includes(row.status)) || waitSeconds <= 0) {
      return { ok: true, record: targetRecord(runId, target, row) };
    }
    const windowMs = Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
    const latest = await this.targetWaiters.wait(target, windowMs, () => this.tables.existing()?.target(target));
    return { ok: true, record: targetRecord(runId, target, latest) };
  }

  /** POST /v1/runs/journal: the first record of an attempt's key stands (relay/run/parking.ts). */
  async journal(caller: Principal, request: JournalRequest): Promise<R.JournalResult> {
    return this.ownership.admit(caller, request.runId, true) ? this.withParking((p) => p.journal(request, Date.now())) : FORBIDDEN;
  }

  /** POST /v1/runs/park: stores the job's park; a dispatch it is due for at once is stored with it. */
  async park(caller: Principal, request: ParkRequest): Promise<R.ParkResult> {
    return this.ownership.admit(caller, request.runId, true) ? this.withParking((p) => p.park(request, Date.now())) : FORBIDDEN;
  }

  /** POST /v1/runs/resume: whether the job continues a parked attempt (it claims its own park). */
  async resume(caller: Principal, request: ResumeRequest): Promise<R.ResumeResult> {
    return this.ownership.admit(caller, request.runId, false) ? this.withParking((p) => p.resume(request, Date.now()), () => nothingParked(request)) : FORBIDDEN;
  }

  /** POST /v1/runs/unpark: closes the job's park. */
  async unpark(caller: Principal, request: UnparkRequest): Promise<R.UnparkResult> {
    return this.ownership.admit(caller, request.runId, true) ? this.withParking((p) => p.unpark(request, Date.now())) : FORBIDDEN;
  }

  /** GET /v1/runs: the run view. */
  async runView(caller: Principal, runId: string): Promise<R.RunViewResult> {
    return this.ownership.admit(caller, runId, false) ? this.withParking((p) => p.view(runId), () => emptyView(runId)) : FORBIDDEN;
  }

  /** POST /github/webhook's `deployment_protection_rule` (relay/run/protection.ts): stored once, answered once its gates are final. */
  async protectionRequest(request: ProtectionRequest): Promise<ProtectionResult> {
    return this.withParking(() => this.protection.request(request, Date.now()));
  }

  /** Ends every gate due, waited on or not; deletes the whole run once nothing is pending and nothing was written for the retention time. */
  override async alarm(): Promise<void> {
    this.alarmClock.forget();
    await this.expireDue();
    await sendDue(this.parking.parkStore, this.env);
    await this.protection.sendDue();
    if (!expired(this.store, [this.parking, this.protection], this.retentionMs, Date.now())) {
      await this.rearmAlarm();
      return;
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.tables.forget();
    this.ownership.forget();
  }

  /** Stores a decision on a pending gate, wakes its polls and moves the alarm. */
  private async decide(row: GateRow, state: GateState, message: string | null, decidedBy: string | null, outputs: Outputs | null = null): Promise<GateView> {
    const decided = this.store.view(this.store.decide(row.id, state, message, decidedBy, outputs) ?? row);
    this.gateWaiters.wake(row.id, decided);
    await this.rearmAlarm();
    return decided;
  }

  /** A re-run's first word on a target ends the pending gates its earlier attempts left behind (not those past their deadline). */
  private supersedeEarlier(target: string, attempt: number): void {
    for (const row of this.store.supersedeEarlier(target, attempt)) this.gateWaiters.wake(row.id, this.store.view(row));
  }

  /** Fails every pending gate gone quiet, times out those past their deadline; re-arms the alarm when one ended. */
  private async expireDue(): Promise<void> {
    const expiredGates = [...this.heartbeats.failQuiet(Date.now()), ...this.store.expireDue()];
    for (const row of expiredGates) this.gateWaiters.wake(row.id, this.store.view(row));
    if (expiredGates.length > 0) await this.rearmAlarm();
  }

  /** Stores the resume dispatches and rule answers a change made due, in the change's synchronous stretch, then moves the alarm. */
  private rearmAlarm(): Promise<void> {
    this.protection.checkDue(Date.now());
    this.parking.checkDue(Date.now());
    return this.alarmClock.arm(nextAlarm(this.store, [this.parking, this.protection], this.retentionMs));
  }

  /** Runs `use` on parking (tables migrated first), then moves the alarm after any change; `none` answers a run that stored nothing, creating nothing. */
  private async withParking<T>(use: (parking: Parking) => T, none?: () => T): Promise<T> {
    if (none && !this.tables.existing()) return none();
    void this.store;
    const result = use(this.parking);
    await this.rearmAlarm();
    return result;
  }

  /** The gate's row, ended first if its deadline or heartbeat passed: that time, not the (possibly late) alarm, ends a gate. */
  private async currentRow(gateId: string, row = this.tables.existing()?.gate(gateId)): Promise<GateRow | undefined> {
    if (row?.state !== 'pending' || gateDue(row) > Date.now()) return row;
    await this.expireDue();
    return this.store.gate(gateId);
  }
}

/**
 * One Durable Object per deployment run: it owns the run's gates in SQLite,
 * wakes long-polls the moment a decision is stored, and fires gate deadlines
 * with a single alarm re-armed for the nearest one.
 */
import { DurableObject } from 'cloudflare:workers';
import type {
  CallbackBody,
  GateState,
  GateView,
  ProgressReport,
  RegisterGateRequest,
  RegisterGateResponse,
} from '../shared/protocol.ts';
import { GONE_STATES, MAX_WAIT_SECONDS } from '../shared/protocol.ts';
import { mintCallbackToken } from './callback-token.ts';
import { randomId } from './crypto.ts';
import type { Env } from './env.ts';

/** Progress reports kept per gate; older ones are dropped. */
const MAX_PROGRESS_PER_GATE = 50;

type GateRow = {
  id: string;
  run_id: string;
  step_key: string;
  target: string;
  phase: GateView['phase'];
  name: string;
  state: GateState;
  message: string | null;
  created_at: number;
  deadline: number;
  decided_at: number | null;
  callback_uri: string;
};

export type CallbackResult =
  | { status: 200; gate: GateView }
  | { status: 404 }
  | { status: 409; gate: GateView }
  | { status: 410; gate: GateView };

export class RunObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Long-polls waiting on each gate; resolved with the stored view. */
  private readonly waiters = new Map<string, Set<(gate: GateView) => void>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`
        CREATE TABLE IF NOT EXISTS gates (
          id TEXT PRIMARY KEY,
          run_id TEXT NOT NULL,
          step_key TEXT NOT NULL UNIQUE,
          target TEXT NOT NULL,
          phase TEXT NOT NULL,
          name TEXT NOT NULL,
          state TEXT NOT NULL,
          message TEXT,
          created_at INTEGER NOT NULL,
          deadline INTEGER NOT NULL,
          decided_at INTEGER,
          callback_uri TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS gates_pending ON gates (state, deadline);
        CREATE TABLE IF NOT EXISTS progress (
          gate_id TEXT NOT NULL,
          at INTEGER NOT NULL,
          message TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS progress_gate ON progress (gate_id, at);
      `);
    });
  }

  /** Registers a gate, or returns the one this run + step key already has. */
  async register(request: RegisterGateRequest, callbackBase: string): Promise<RegisterGateResponse> {
    const existing = this.sql.exec<GateRow>('SELECT * FROM gates WHERE step_key = ?', request.stepKey).toArray()[0];
    if (existing) return { ...this.view(existing), callbackUri: existing.callback_uri, created: false };

    const secret = this.env.CALLBACK_SECRET;
    if (!secret) throw new Error('CALLBACK_SECRET is not configured');
    const id = randomId(16);
    const now = Date.now();
    const token = await mintCallbackToken(secret, request.runId, id);
    const callbackUri = `${callbackBase.replace(/\/+$/, '')}/cb/${token}`;
    const row: GateRow = {
      id,
      run_id: request.runId,
      step_key: request.stepKey,
      target: request.target,
      phase: request.phase,
      name: request.name,
      state: 'pending',
      message: null,
      created_at: now,
      deadline: now + request.timeoutSeconds * 1000,
      decided_at: null,
      callback_uri: callbackUri,
    };
    this.sql.exec(
      `INSERT INTO gates (id, run_id, step_key, target, phase, name, state, message, created_at, deadline, decided_at, callback_uri)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.run_id,
      row.step_key,
      row.target,
      row.phase,
      row.name,
      row.state,
      row.message,
      row.created_at,
      row.deadline,
      row.decided_at,
      row.callback_uri,
    );
    await this.rearmAlarm();
    return { ...this.view(row), callbackUri, created: true };
  }

  /** The gate's view at once if decided, else when it is decided or after `waitSeconds`. */
  async wait(gateId: string, waitSeconds: number): Promise<GateView | null> {
    const row = await this.currentRow(gateId);
    if (!row) return null;
    const gate = this.view(row);
    if (gate.state !== 'pending' || waitSeconds <= 0) return gate;

    const windowMs = Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
    return new Promise<GateView>((resolve) => {
      const waiters = this.waiters.get(gateId) ?? new Set();
      this.waiters.set(gateId, waiters);
      const wake = (decided: GateView): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0) this.waiters.delete(gateId);
        resolve(decided);
      };
      const timer = setTimeout(() => {
        const latest = this.row(gateId);
        wake(latest ? this.view(latest) : gate);
      }, windowMs);
      waiters.add(wake);
    });
  }

  /** Applies a callback: the first decision wins; progress reports are appended. */
  async callback(gateId: string, body: CallbackBody): Promise<CallbackResult> {
    const row = await this.currentRow(gateId);
    if (!row) return { status: 404 };
    if (GONE_STATES.includes(row.state)) return { status: 410, gate: this.view(row) };

    const message = body.mdMessage ?? null;
    if ('progress' in body) {
      if (row.state !== 'pending') return { status: 409, gate: this.view(row) };
      this.addProgress(gateId, message ?? '');
      const gate = this.view(row);
      this.notify(gate);
      return { status: 200, gate };
    }

    const state: GateState = body.success ? 'succeeded' : 'failed';
    if (row.state !== 'pending') {
      // A repeat of the recorded decision is harmless (a retrying sender); a different one is refused.
      return { status: row.state === state ? 200 : 409, gate: this.view(row) };
    }
    this.sql.exec(
      'UPDATE gates SET state = ?, message = ?, decided_at = ? WHERE id = ? AND state = ?',
      state,
      message,
      Date.now(),
      gateId,
      'pending',
    );
    const decided = this.view(this.row(gateId) ?? row);
    this.notify(decided);
    await this.rearmAlarm();
    return { status: 200, gate: decided };
  }

  /** Cancels the run's pending gates (all, or those listed); late callbacks to them get 410. */
  async cancelRun(reason: string, gateIds?: readonly string[]): Promise<string[]> {
    const canceled = this.sql
      .exec<GateRow>(
        `UPDATE gates SET state = 'canceled', message = ?, decided_at = ?
         WHERE state = 'pending' AND (? IS NULL OR id IN (SELECT value FROM json_each(?))) RETURNING *`,
        reason,
        Date.now(),
        gateIds ? 1 : null,
        JSON.stringify(gateIds ?? []),
      )
      .toArray();
    for (const row of canceled) this.notify(this.view(row));
    await this.rearmAlarm();
    return canceled.map((row) => row.id);
  }

  /** Stores `timed-out` for every gate whose deadline passed, whether or not anyone waits. */
  override async alarm(): Promise<void> {
    await this.expireDue();
    await this.rearmAlarm();
  }

  /** Times out every pending gate whose deadline has passed; re-arms the alarm when one did. */
  private async expireDue(): Promise<void> {
    const now = Date.now();
    const expired = this.sql
      .exec<GateRow>(
        "UPDATE gates SET state = 'timed-out', decided_at = ?, message = ? WHERE state = 'pending' AND deadline <= ? RETURNING *",
        now,
        'no decision arrived before the deadline',
        now,
      )
      .toArray();
    for (const row of expired) this.notify(this.view(row));
    if (expired.length > 0) await this.rearmAlarm();
  }

  private async rearmAlarm(): Promise<void> {
    const next = this.sql
      .exec<{ next: number | null }>("SELECT MIN(deadline) AS next FROM gates WHERE state = 'pending'")
      .one().next;
    if (next === null) {
      await this.ctx.storage.deleteAlarm();
    } else if ((await this.ctx.storage.getAlarm()) !== next) {
      await this.ctx.storage.setAlarm(next);
    }
  }

  private addProgress(gateId: string, message: string): void {
    this.sql.exec('INSERT INTO progress (gate_id, at, message) VALUES (?, ?, ?)', gateId, Date.now(), message);
    this.sql.exec(
      `DELETE FROM progress WHERE gate_id = ? AND rowid NOT IN
         (SELECT rowid FROM progress WHERE gate_id = ? ORDER BY at DESC, rowid DESC LIMIT ?)`,
      gateId,
      gateId,
      MAX_PROGRESS_PER_GATE,
    );
  }

  private notify(gate: GateView): void {
    for (const wake of [...(this.waiters.get(gate.gateId) ?? [])]) wake(gate);
  }

  /**
   * The gate's row, timed out first if its deadline passed: the deadline, not the
   * alarm's punctuality, ends a gate (an alarm may run late).
   */
  private async currentRow(gateId: string): Promise<GateRow | undefined> {
    const row = this.row(gateId);
    if (row?.state !== 'pending' || row.deadline > Date.now()) return row;
    await this.expireDue();
    return this.row(gateId);
  }

  private row(gateId: string): GateRow | undefined {
    return this.sql.exec<GateRow>('SELECT * FROM gates WHERE id = ?', gateId).toArray()[0];
  }

  private view(row: GateRow): GateView {
    const progress = this.sql
      .exec<ProgressReport>('SELECT at, message FROM progress WHERE gate_id = ? ORDER BY at, rowid', row.id)
      .toArray();
    return {
      gateId: row.id,
      runId: row.run_id,
      stepKey: row.step_key,
      target: row.target,
      phase: row.phase,
      name: row.name,
      state: row.state,
      message: row.message,
      createdAt: row.created_at,
      deadline: row.deadline,
      decidedAt: row.decided_at,
      progress,
    };
  }
}

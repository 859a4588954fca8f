/**
 * The run object's SQL: every read and write of its tables, synchronous, with no
 * policy of its own. relay/run/object.ts decides what to store and whom to wake.
 */
import type { GateState, GateView, Outputs, ProgressReport, RunInfo, TargetStatus } from '../../shared/protocol.ts';
import type { GateRow, TargetRow } from './rows.ts';
import { gateColumnsWithMessageCut, gateView } from './rows.ts';
import { HEARTBEAT_DUE } from './heartbeats.ts';
import { readRunInfo, saveRunInfo } from './run-info.ts';
import { cutOutputs } from './page-limits.ts';
import type { OwnerRow } from './owner.ts';
import { gateWindow, MAX_MESSAGE_CODE_POINTS, MAX_REPORTS_SHOWN } from './page-limits.ts';
import type { PageGates } from './results.ts';

/** Progress reports kept per gate; older ones are dropped. */
const MAX_PROGRESS_PER_GATE = 50;

/** How much of a message the approval page reads: one code point more than it shows. */
const PAGE_MESSAGE_CHARS = MAX_MESSAGE_CODE_POINTS + 1;
/** A GateRow's columns with the message cut to PAGE_MESSAGE_CHARS. */
const PAGE_GATE_COLUMNS = gateColumnsWithMessageCut(PAGE_MESSAGE_CHARS);

/** Which pending gates a cancel covers: listed ones, one target's, or all. */
export type CancelScope = { gateIds: readonly string[] } | { target: string } | 'all';

export class RunStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  gate(gateId: string): GateRow | undefined {
    return this.sql.exec<GateRow>('SELECT * FROM gates WHERE id = ?', gateId).toArray()[0];
  }

  gateByStepKey(stepKey: string): GateRow | undefined {
    return this.sql.exec<GateRow>('SELECT * FROM gates WHERE step_key = ?', stepKey).toArray()[0];
  }

  /** Every gate the run has stored, of any attempt and state. */
  gateCount(): number {
    return this.sql.exec<{ count: number }>('SELECT COUNT(*) AS count FROM gates').one().count;
  }

  /**
   * The gates the approval page of `gateId` lists (gateWindow of its target's gates of one attempt,
   * in creation order; the rest only counted), read as it shows them: each with its latest reports,
   * every message cut one code point past what it shows, so it can tell a cut (SQLite's substr
   * counts characters of UTF-8 text: a cut never splits a surrogate pair).
   */
  pageGates(gateId: string, target: string, attempt: number): PageGates {
    const { count, before } = this.sql
      .exec<{ count: number; before: number }>(
        `SELECT COUNT(*) AS count,
           COALESCE(SUM((created_at, rowid) < (SELECT created_at, rowid FROM gates WHERE id = ?)), 0) AS before
         FROM gates WHERE target = ? AND attempt = ?`,
        gateId,
        target,
        attempt,
      )
      .one();
    const { offset, limit, hiddenBefore, hiddenAfter } = gateWindow(count, before);
    // The window's rowids first: the gates left out (up to MAX_GATES_PER_RUN) are sorted, never read whole.
    const rows = this.sql
      .exec<GateRow>(
        `SELECT ${PAGE_GATE_COLUMNS} FROM gates WHERE rowid IN
           (SELECT rowid FROM gates WHERE target = ? AND attempt = ? ORDER BY created_at, rowid LIMIT ? OFFSET ?)
         ORDER BY created_at, rowid`,
        target,
        attempt,
        limit,
        offset,
      )
      .toArray();
    const gates = rows.map((row) => gateView(row, this.latestReports(row.id)));
    return { gates: gates.map((gate) => ({ ...gate, outputs: cutOutputs(gate.outputs) })), hiddenBefore, hiddenAfter };
  }

  /** A gate's MAX_REPORTS_SHOWN latest reports, oldest first, messages cut as pageGates cuts them. */
  private latestReports(gateId: string): ProgressReport[] {
    return this.sql
      .exec<ProgressReport>(
        'SELECT seq, at, substr(message, 1, ?) AS message FROM progress WHERE gate_id = ? ORDER BY seq DESC LIMIT ?',
        PAGE_MESSAGE_CHARS,
        gateId,
        MAX_REPORTS_SHOWN,
      )
      .toArray()
      .reverse();
  }

  view(row: GateRow): GateView {
    const progress = this.sql
      .exec<ProgressReport>('SELECT seq, at, message FROM progress WHERE gate_id = ? ORDER BY seq', row.id)
      .toArray();
    return gateView(row, progress);
  }

  insertGate(row: GateRow): void {
    const columns = Object.keys(row);
    this.sql.exec(
      `INSERT INTO gates (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      ...Object.values(row),
    );
  }

  /** Stores a decision (and its outputs) if the gate is still pending; the row as it is afterwards. */
  decide(gateId: string, state: GateState, message: string | null, decidedBy: string | null, outputs: Outputs | null = null): GateRow | undefined {
    this.sql.exec(
      "UPDATE gates SET state = ?, message = ?, decided_by = ?, decided_at = ?, outputs = ? WHERE id = ? AND state = 'pending'",
      state,
      message,
      decidedBy,
      Date.now(),
      outputs === null ? null : JSON.stringify(outputs),
      gateId,
    );
    return this.gate(gateId);
  }

  /** Ends the target's pending gates of attempts before `attempt`, except those already past their deadline. */
  supersedeEarlier(target: string, attempt: number): GateRow[] {
    const now = Date.now();
    return this.sql
      .exec<GateRow>(
        `UPDATE gates SET state = 'superseded', message = ?, decided_at = ?
         WHERE target = ? AND attempt < ? AND state = 'pending' AND deadline > ? RETURNING *`,
        `superseded by re-run attempt ${attempt}`,
        now,
        target,
        attempt,
        now,
      )
      .toArray();
  }

  cancel(reason: string, scope: CancelScope): GateRow[] {
    const update = "UPDATE gates SET state = 'canceled', message = ?, decided_at = ? WHERE state = 'pending'";
    const now = Date.now();
    const [where, ...values] =
      scope === 'all'
        ? ['']
        : 'target' in scope
          ? [' AND target = ?', scope.target]
          : [' AND id IN (SELECT value FROM json_each(?))', JSON.stringify(scope.gateIds)];
    return this.sql.exec<GateRow>(`${update}${where} RETURNING *`, reason, now, ...values).toArray();
  }

  /** Times out every pending gate whose deadline has passed. */
  expireDue(): GateRow[] {
    const now = Date.now();
    return this.sql
      .exec<GateRow>(
        `UPDATE gates SET state = 'timed-out', decided_at = ?, message = ?
         WHERE state = 'pending' AND deadline <= ? RETURNING *`,
        now,
        'no decision arrived before the deadline',
        now,
      )
      .toArray();
  }

  /** True when a pending gate's deadline or heartbeat has passed (a read of one row per index: no write per request). */
  hasDue(): boolean {
    const now = Date.now();
    const query = `SELECT EXISTS (SELECT 1 FROM gates WHERE state = 'pending' AND deadline <= ?)
      OR EXISTS (SELECT 1 FROM gates WHERE state = 'pending' AND ${HEARTBEAT_DUE} <= ?) AS due`;
    return this.sql.exec<{ due: number }>(query, now, now).one().due === 1;
  }

  /** True while any gate waits for a decision. */
  hasPending(): boolean {
    return this.sql.exec("SELECT 1 FROM gates WHERE state = 'pending' LIMIT 1").toArray().length > 0;
  }

  /**
   * When anything was last written to the run (a gate, a decision, a target record, its claim);
   * null for none. Progress reports need no look: they come only while a gate is pending, and
   * that gate's end comes after them.
   */
  lastActivity(): number | null {
    const query = `SELECT MAX(at) AS last FROM (
        SELECT MAX(created_at) AS at FROM gates
        UNION ALL SELECT MAX(decided_at) FROM gates
        UNION ALL SELECT MAX(updated_at) FROM targets
        UNION ALL SELECT MAX(claimed_at) FROM run_owner)`;
    return this.sql.exec<{ last: number | null }>(query).one().last;
  }

  /**
   * The nearest deadline or heartbeat due time (relay/run/heartbeats.ts) of a pending gate, or null:
   * each the first of its index (gates_pending, gates_heartbeat_due), not a scan of every pending gate.
   */
  nextDeadline(): number | null {
    const query = `SELECT MIN(at) AS next FROM (SELECT MIN(deadline) AS at FROM gates WHERE state = 'pending'
      UNION ALL SELECT MIN(${HEARTBEAT_DUE}) FROM gates WHERE state = 'pending')`;
    return this.sql.exec<{ next: number | null }>(query).one().next;
  }

  /** The highest attempt the run has seen for a target, in its gates or its record; 0 for none. */
  highestAttempt(target: string): number {
    const { highest } = this.sql
      .exec<{ highest: number | null }>(
        `SELECT MAX(attempt) AS highest FROM
           (SELECT attempt FROM gates WHERE target = ? UNION ALL SELECT attempt FROM targets WHERE target = ?)`,
        target,
        target,
      )
      .one();
    return highest ?? 0;
  }

  /** Appends a report numbered one past the gate's latest (numbers outlive the reports dropped). */
  addProgress(gateId: string, message: string): void {
    this.sql.exec(
      `INSERT INTO progress (gate_id, seq, at, message)
       SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ? FROM progress WHERE gate_id = ?`,
      gateId,
      Date.now(),
      message,
      gateId,
    );
    this.sql.exec(
      `DELETE FROM progress WHERE gate_id = ? AND seq NOT IN
         (SELECT seq FROM progress WHERE gate_id = ? ORDER BY seq DESC LIMIT ?)`,
      gateId,
      gateId,
      MAX_PROGRESS_PER_GATE,
    );
  }

  owner(): OwnerRow | undefined {
    return this.sql.exec<OwnerRow>('SELECT kind, repository_id, repository, claimed_at FROM run_owner WHERE id = 1').toArray()[0];
  }

  /** Records the run's owner unless it has one: the first claim stands. */
  claimOwner(owner: OwnerRow): void {
    this.sql.exec(
      'INSERT INTO run_owner (id, kind, repository_id, repository, claimed_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      owner.kind,
      owner.repository_id,
      owner.repository,
      owner.claimed_at,
    );
  }

  runInfo(): RunInfo | null {
    return readRunInfo(this.sql);
  }

  /** Stores the run's description; the latest registration's wins (relay/run/run-info.ts). */
  saveRunInfo(run: RunInfo): void {
    saveRunInfo(this.sql, run);
  }

  /** How many targets have a record. */
  targetCount(): number {
    return this.sql.exec<{ count: number }>('SELECT COUNT(*) AS count FROM targets').one().count;
  }

  target(target: string): TargetRow | undefined {
    return this.sql.exec<TargetRow>('SELECT * FROM targets WHERE target = ?', target).toArray()[0];
  }

  /** Replaces a target's record. */
  saveTarget(target: string, attempt: number, status: TargetStatus, message: string): TargetRow {
    return this.sql
      .exec<TargetRow>(
        `INSERT INTO targets (target, attempt, status, message, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (target) DO UPDATE SET attempt = excluded.attempt, status = excluded.status,
           message = excluded.message, updated_at = excluded.updated_at
         RETURNING *`,
        target,
        attempt,
        status,
        message,
        Date.now(),
      )
      .one();
  }

  /** Records `canceled` for running targets: the one given, or all. */
  cancelRunningTargets(reason: string, target: string | undefined): TargetRow[] {
    return this.sql
      .exec<TargetRow>(
        `UPDATE targets SET status = 'canceled', message = ?, updated_at = ?
         WHERE status = 'running' AND (? IS NULL OR target = ?) RETURNING *`,
        reason,
        Date.now(),
        target ?? null,
        target ?? null,
      )
      .toArray();
  }
}

/**
 * The SQL of parking (relay/run/schema.ts step 5): the journal, the parked jobs and the resume
 * dispatches, synchronous and with no policy of its own; relay/run/parking.ts decides.
 */
import type { DispatchState, ParkState, ResumeTarget } from '../../shared/park.ts';
import { MAX_TARGETS_PER_RUN } from '../../shared/protocol.ts';
import type { TargetRow } from './rows.ts';

export type JournalRow = { attempt: number; key: string; record: string; run: string; at: number };

export type ParkRow = {
  job: string;
  /** The deployment id, the resume's input. */
  run_id: string;
  attempt: number;
  state: ParkState;
  /** JSON arrays of gate ids and upstream target names. */
  gate_ids: string;
  targets: string;
  repository: string;
  workflow: string;
  ref: string;
  /** JSON RunRef; claimed_by null until a run continues the job. */
  parked_by: string;
  claimed_by: string | null;
  dispatch_id: number | null;
  parked_at: number;
  updated_at: number;
};

export type DispatchRow = {
  id: number;
  state: DispatchState;
  repository: string;
  workflow: string;
  ref: string;
  deployment_id: string;
  tries: number;
  error: string | null;
  resumed_run_id: string | null;
  resumed_run_url: string | null;
  /** When the alarm sends it (state `due`); null otherwise. */
  next_at: number | null;
  first_try_at: number | null;
  /**
   * When a send began whose outcome is unknown (schema step 10): set before the request, null after
   * a definite answer. Left set, the next try first asks GitHub whether that send started a run.
   */
  sending_at?: number | null;
  created_at: number;
  updated_at: number;
};

/** What a dispatch's send changed: its state and the fields that go with it. */
export type DispatchUpdate = Pick<DispatchRow, 'state' | 'tries' | 'error' | 'resumed_run_id' | 'resumed_run_url' | 'next_at' | 'first_try_at'> & {
  sending_at: number | null;
};

const FINAL_TARGETS = "('succeeded', 'rolled-back', 'failed', 'canceled')";

export class ParkStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  journalCount(): number {
    return this.sql.exec<{ count: number }>('SELECT COUNT(*) AS count FROM journal').one().count;
  }

  hasJournalEntry(attempt: number, key: string): boolean {
    return this.sql.exec('SELECT 1 FROM journal WHERE attempt = ? AND key = ?', attempt, key).toArray().length > 0;
  }

  insertJournal(row: JournalRow): void {
    this.sql.exec(
      'INSERT INTO journal (attempt, key, record, run, at) VALUES (?, ?, ?, ?, ?)',
      row.attempt,
      row.key,
      row.record,
      row.run,
      row.at,
    );
  }

  /** An attempt's entries in the order they were recorded. */
  journal(attempt: number): JournalRow[] {
    return this.sql.exec<JournalRow>('SELECT * FROM journal WHERE attempt = ? ORDER BY at, rowid', attempt).toArray();
  }

  /**
   * The highest attempt the run has seen (gates and target records) for the target a journal key
   * names: the longest known target name the key starts with, followed by `/` or `#`; 0 for none.
   */
  highestAttemptOfKey(key: string): number {
    const { highest } = this.sql
      .exec<{ highest: number | null }>(
        `WITH attempts AS (SELECT target, attempt FROM gates UNION ALL SELECT target, attempt FROM targets),
           named AS (SELECT target FROM attempts WHERE substr(?, 1, length(target) + 1) IN (target || '/', target || '#')
             ORDER BY length(target) DESC LIMIT 1)
         SELECT MAX(attempt) AS highest FROM attempts WHERE target = (SELECT target FROM named)`,
        key,
      )
      .one();
    return highest ?? 0;
  }

  park(job: string): ParkRow | undefined {
    return this.sql.exec<ParkRow>('SELECT * FROM parks WHERE job = ?', job).toArray()[0];
  }

  parkCount(): number {
    return this.sql.exec<{ count: number }>('SELECT COUNT(*) AS count FROM parks').one().count;
  }

  /** Every park, oldest first. */
  parks(): ParkRow[] {
    return this.sql.exec<ParkRow>('SELECT * FROM parks ORDER BY parked_at, rowid').toArray();
  }

  /** Stores a job's park, replacing the one it had. */
  savePark(row: ParkRow): void {
    const columns = Object.keys(row);
    const updates = columns.filter((column) => column !== 'job').map((column) => `${column} = excluded.${column}`);
    this.sql.exec(
      `INSERT INTO parks (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
       ON CONFLICT (job) DO UPDATE SET ${updates.join(', ')}`,
      ...Object.values(row),
    );
  }

  setParkState(job: string, state: ParkState, claimedBy: string | null, now: number): void {
    this.sql.exec(
      'UPDATE parks SET state = ?, claimed_by = COALESCE(?, claimed_by), updated_at = ? WHERE job = ?',
      state,
      claimedBy,
      now,
      job,
    );
  }

  /** Parked jobs that no dispatch resumes yet. */
  waitingParks(): ParkRow[] {
    return this.sql.exec<ParkRow>("SELECT * FROM parks WHERE state = 'parked' AND dispatch_id IS NULL ORDER BY rowid").toArray();
  }

  /** How many of the gates listed (a JSON array of ids) are still pending; ids the run does not have count as final. */
  pendingGates(gateIds: string): number {
    return this.sql
      .exec<{ count: number }>(
        "SELECT COUNT(*) AS count FROM gates WHERE state = 'pending' AND id IN (SELECT value FROM json_each(?))",
        gateIds,
      )
      .one().count;
  }

  /** How many of the targets listed (a JSON array of names) have no final record in `attempt` or later. */
  /** The targets whose record is `running` in `attempt`: a job of the run still works on each. */
  runningTargets(attempt: number): string[] {
    return this.sql
      .exec<{ target: string }>("SELECT target FROM targets WHERE attempt = ? AND status = 'running'", attempt)
      .toArray()
      .map((row) => row.target);
  }

  unfinishedTargets(targets: string, attempt: number): number {
    return this.sql
      .exec<{ count: number }>(
        `SELECT COUNT(*) AS count FROM (SELECT DISTINCT value FROM json_each(?)) AS wanted WHERE NOT EXISTS
           (SELECT 1 FROM targets WHERE target = wanted.value AND attempt >= ? AND status IN ${FINAL_TARGETS})`,
        targets,
        attempt,
      )
      .one().count;
  }

  /** The dispatch still to send to `target`, if any. */
  dueDispatchFor(target: ResumeTarget): number | undefined {
    const row = this.sql
      .exec<{ id: number }>(
        "SELECT id FROM dispatches WHERE state = 'due' AND repository = ? AND workflow = ? AND ref = ? ORDER BY id LIMIT 1",
        target.repository,
        target.workflow,
        target.ref,
      )
      .toArray()[0];
    return row?.id;
  }

  insertDispatch(row: Omit<DispatchRow, 'id'>): number {
    const columns = Object.keys(row);
    return this.sql
      .exec<{ id: number }>(
        `INSERT INTO dispatches (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING id`,
        ...Object.values(row),
      )
      .one().id;
  }

  linkPark(job: string, dispatchId: number, now: number): void {
    this.sql.exec('UPDATE parks SET dispatch_id = ?, updated_at = ? WHERE job = ?', dispatchId, now, job);
  }

  dispatch(id: number): DispatchRow | undefined {
    return this.sql.exec<DispatchRow>('SELECT * FROM dispatches WHERE id = ?', id).toArray()[0];
  }

  /** The run's latest dispatch. */
  latestDispatch(): DispatchRow | undefined {
    return this.sql.exec<DispatchRow>('SELECT * FROM dispatches ORDER BY id DESC LIMIT 1').toArray()[0];
  }

  /** Dispatches due by `now`, oldest first. */
  dueDispatches(now: number): DispatchRow[] {
    return this.sql
      .exec<DispatchRow>("SELECT * FROM dispatches WHERE state = 'due' AND next_at <= ? ORDER BY id", now)
      .toArray();
  }

  /** When the next due dispatch is to be sent; null for none. */
  nextDispatchAt(): number | null {
    return this.sql.exec<{ next: number | null }>("SELECT MIN(next_at) AS next FROM dispatches WHERE state = 'due'").one().next;
  }

  /** How many parks `dispatchId` resumes are still parked (not claimed by a run started by hand). */
  parkedFor(dispatchId: number): number {
    return this.sql
      .exec<{ count: number }>("SELECT COUNT(*) AS count FROM parks WHERE dispatch_id = ? AND state = 'parked'", dispatchId)
      .one().count;
  }

  /** Marks a send as begun, before its request: stored before the request leaves (the output gate holds it until then). */
  markSending(id: number, now: number): void {
    this.sql.exec('UPDATE dispatches SET sending_at = ?, updated_at = ? WHERE id = ?', now, now, id);
  }

  /** Moves a due dispatch's next try (its other fields stay). */
  postponeDispatch(id: number, nextAt: number, now: number): void {
    this.sql.exec("UPDATE dispatches SET next_at = ?, updated_at = ? WHERE id = ? AND state = 'due'", nextAt, now, id);
  }

  updateDispatch(id: number, update: DispatchUpdate, now: number): void {
    const columns = Object.keys(update);
    this.sql.exec(
      `UPDATE dispatches SET ${columns.map((column) => `${column} = ?`).join(', ')}, updated_at = ? WHERE id = ?`,
      ...Object.values(update),
      now,
      id,
    );
  }

  /**
   * True while a parked job has no dispatch yet (it waits for its gates) or a dispatch is due: the
   * run must not be deleted. A park whose dispatch was sent, failed, or is manual or unneeded holds
   * nothing: its run is kept for the retention time after its last activity, like any other.
   */
  holdsRun(): boolean {
    const query = `SELECT 1 FROM parks WHERE state = 'parked' AND dispatch_id IS NULL
      UNION ALL SELECT 1 FROM dispatches WHERE state = 'due' LIMIT 1`;
    return this.sql.exec(query).toArray().length > 0;
  }

  /** The latest write to the journal, the parks or the dispatches; null for none. */
  lastActivity(): number | null {
    const query = `SELECT MAX(at) AS last FROM (
        SELECT MAX(at) AS at FROM journal
        UNION ALL SELECT MAX(updated_at) FROM parks
        UNION ALL SELECT MAX(updated_at) FROM dispatches)`;
    return this.sql.exec<{ last: number | null }>(query).one().last;
  }

  /** Every target record, by name (at most MAX_TARGETS_PER_RUN). */
  targets(): TargetRow[] {
    return this.sql.exec<TargetRow>('SELECT * FROM targets ORDER BY target LIMIT ?', MAX_TARGETS_PER_RUN).toArray();
  }
}

/**
 * The deploy queue's SQLite rows: at most one holder and one waiting member, the few deployments
 * lately replaced (so a replaced one that asks again hears why, and is not let in), and the
 * decisions on queue gates still to send (the outbox). The whole storage is deleted once all
 * three are empty, so a queue lives only about as long as a deployment does.
 */
import { MAX_HOLD_SECONDS } from '../../shared/queue.ts';
import type { QueueMember } from '../../shared/queue.ts';

export type Role = 'holder' | 'waiting';

/** A deployment in the queue. `targets`: every target of the deployment; `left`: those whose job ended. */
export type Member = {
  runId: string;
  role: Role;
  attempt: number;
  runUrl: string;
  since: number;
  leaseUntil: number;
  targets: string[];
  left: string[];
  /** Its jobs' queue gates (one per job waiting), decided when it becomes the holder or is replaced. */
  wakeGates: string[];
  /** Parked jobs' holds: `job` is the job's target, '' for a job of every target. */
  holds: Hold[];
};

export type Hold = { job: string; until: number };

/** Most replaced deployments remembered; the oldest is forgotten first. */
const MAX_REPLACED = 20;
/** How long a replaced deployment is remembered: as long as its parked job could still be resumed. */
export const KEEP_REPLACED_MS = MAX_HOLD_SECONDS * 1000;

/** A decision on a queue gate still to send (the outbox), and how often sending it failed. */
export type OutboxWake = { id: number; runId: string; gateId: string; success: boolean; mdMessage: string; tries: number };
/** A decision to send, as the rules make it. */
export type Wake = { runId: string; gateIds: string[]; success: boolean; mdMessage: string };
/** Most wake gates one member keeps: one per job of the deployment waiting at once (one job per environment). */
export const MAX_WAKE_GATES = 50;

/**
 * IF NOT EXISTS is the whole migration story: the storage is deleted each time the queue empties,
 * so a schema change meets old rows only in a queue busy across the relay's deploy; a change
 * must then add columns with defaults.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS members (
    run_id TEXT PRIMARY KEY,
    role TEXT NOT NULL UNIQUE CHECK (role IN ('holder', 'waiting')),
    attempt INTEGER NOT NULL,
    run_url TEXT NOT NULL,
    since INTEGER NOT NULL,
    lease_until INTEGER NOT NULL,
    targets TEXT NOT NULL,
    left_targets TEXT NOT NULL DEFAULT '[]',
    wake_gates TEXT NOT NULL DEFAULT '[]',
    holds TEXT NOT NULL DEFAULT '[]'
  );
  CREATE TABLE IF NOT EXISTS wakes (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    gate_id TEXT NOT NULL,
    success INTEGER NOT NULL,
    md_message TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS replaced (
    run_id TEXT PRIMARY KEY,
    attempt INTEGER NOT NULL,
    by_run_id TEXT NOT NULL,
    by_attempt INTEGER NOT NULL,
    by_run_url TEXT NOT NULL,
    by_since INTEGER NOT NULL,
    at INTEGER NOT NULL
  );`;

type MemberRow = {
  run_id: string;
  role: Role;
  attempt: number;
  run_url: string;
  since: number;
  lease_until: number;
  targets: string;
  left_targets: string;
  wake_gates: string;
  holds: string;
};

export class QueueStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  createSchema(): void {
    this.sql.exec(SCHEMA);
    // A queue busy across the relay's deploy keeps its table from before holds were kept per job.
    const columns = this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('members')").toArray();
    if (!columns.some((column) => column.name === 'holds')) this.sql.exec("ALTER TABLE members ADD COLUMN holds TEXT NOT NULL DEFAULT '[]'");
  }

  member(role: Role): Member | undefined {
    const row = this.sql.exec<MemberRow>('SELECT * FROM members WHERE role = ?', role).toArray()[0];
    return row && toMember(row);
  }

  /** Inserts or replaces the member of `member.role` (one per role). */
  put(member: Member): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO members (run_id, role, attempt, run_url, since, lease_until, targets, left_targets, wake_gates, holds)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      member.runId,
      member.role,
      member.attempt,
      member.runUrl,
      member.since,
      member.leaseUntil,
      JSON.stringify(member.targets),
      JSON.stringify(member.left),
      JSON.stringify(member.wakeGates),
      JSON.stringify(member.holds),
    );
  }

  remove(runId: string): void {
    this.sql.exec('DELETE FROM members WHERE run_id = ?', runId);
  }

  /**
   * When the alarm must run: the nearest lease end, replaced record's end or decision to send; null
   * when nothing is stored (the storage may go).
   */
  nextAlarm(): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        `SELECT min(at) AS at FROM (SELECT min(lease_until) AS at FROM members UNION ALL SELECT min(at) + ? FROM replaced
         UNION ALL SELECT min(next_at) FROM wakes)`,
        KEEP_REPLACED_MS,
      )
      .one().at;
  }

  /** Stores decisions to send in the same stretch as the change that made them: none is lost if sending fails. */
  addWakes(wakes: readonly Wake[], now: number): void {
    for (const wake of wakes) {
      for (const gateId of wake.gateIds) {
        this.sql.exec('INSERT INTO wakes (run_id, gate_id, success, md_message, next_at) VALUES (?, ?, ?, ?, ?)', wake.runId, gateId, wake.success ? 1 : 0, wake.mdMessage, now);
      }
    }
  }

  /**
   * The decisions due at `now`, claimed: each is due again after `claimMs` unless sent or
   * rescheduled first, so a send cut short (an evicted object) is retried by the alarm.
   */
  claimDueWakes(now: number, claimMs: number): OutboxWake[] {
    type Row = { id: number; run_id: string; gate_id: string; success: number; md_message: string; tries: number };
    const rows = this.sql.exec<Row>('SELECT id, run_id, gate_id, success, md_message, tries FROM wakes WHERE next_at <= ? ORDER BY id LIMIT 100', now).toArray();
    for (const row of rows) this.sql.exec('UPDATE wakes SET next_at = ? WHERE id = ?', now + claimMs, row.id);
    return rows.map((row) => ({ id: row.id, runId: row.run_id, gateId: row.gate_id, success: row.success === 1, mdMessage: row.md_message, tries: row.tries }));
  }

  dropWake(id: number): void {
    this.sql.exec('DELETE FROM wakes WHERE id = ?', id);
  }

  retryWake(id: number, tries: number, at: number): void {
    this.sql.exec('UPDATE wakes SET tries = ?, next_at = ? WHERE id = ?', tries, at, id);
  }

  /** Forgets replaced deployments recorded before `before`: their runs cannot come back by then. */
  forgetReplacedBefore(before: number): void {
    this.sql.exec('DELETE FROM replaced WHERE at < ?', before);
  }

  /** Remembers that `member` (its attempt) was replaced by `by`, forgetting the oldest past MAX_REPLACED. */
  markReplaced(member: { runId: string; attempt: number }, by: QueueMember, now: number): void {
    this.sql.exec(
      'INSERT OR REPLACE INTO replaced (run_id, attempt, by_run_id, by_attempt, by_run_url, by_since, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      member.runId,
      member.attempt,
      by.runId,
      by.attempt,
      by.runUrl,
      by.since,
      now,
    );
    this.sql.exec('DELETE FROM replaced WHERE run_id NOT IN (SELECT run_id FROM replaced ORDER BY at DESC, rowid DESC LIMIT ?)', MAX_REPLACED);
  }

  /** Which attempt of `runId` was replaced, and by whom; undefined when none was (or it is forgotten). */
  replaced(runId: string): { attempt: number; by: QueueMember } | undefined {
    type Row = { attempt: number; by_run_id: string; by_attempt: number; by_run_url: string; by_since: number };
    const row = this.sql
      .exec<Row>('SELECT attempt, by_run_id, by_attempt, by_run_url, by_since FROM replaced WHERE run_id = ?', runId)
      .toArray()[0];
    return row && { attempt: row.attempt, by: { runId: row.by_run_id, attempt: row.by_attempt, runUrl: row.by_run_url, since: row.by_since } };
  }

  /** A re-run of a replaced deployment enters anew: it is no longer known as replaced. */
  forgetReplaced(runId: string): void {
    this.sql.exec('DELETE FROM replaced WHERE run_id = ?', runId);
  }
}

/** How others see a member. */
export function publicView(member: Member): QueueMember {
  return { runId: member.runId, attempt: member.attempt, runUrl: member.runUrl, since: member.since };
}

function toMember(row: MemberRow): Member {
  return {
    runId: row.run_id,
    role: row.role,
    attempt: row.attempt,
    runUrl: row.run_url,
    since: row.since,
    leaseUntil: row.lease_until,
    targets: stringList(row.targets),
    left: stringList(row.left_targets),
    wakeGates: stringList(row.wake_gates),
    holds: holdList(row.holds),
  };
}

function holdList(json: string): Hold[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is Hold => typeof item === 'object' && item !== null && typeof item.job === 'string' && typeof item.until === 'number');
}

function stringList(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

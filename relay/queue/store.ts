/**
 * The deploy queue's SQLite rows: at most one holder and one waiting member, and the few
 * deployments lately replaced (so a replaced one that asks again hears why). The whole storage
 * is deleted once nobody holds or waits, so a queue lives only as long as a deployment does.
 */
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
};

/** Most replaced deployments remembered; the oldest is forgotten first. */
const MAX_REPLACED = 20;
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
    wake_gates TEXT NOT NULL DEFAULT '[]'
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
};

export class QueueStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  createSchema(): void {
    this.sql.exec(SCHEMA);
  }

  member(role: Role): Member | undefined {
    const row = this.sql.exec<MemberRow>('SELECT * FROM members WHERE role = ?', role).toArray()[0];
    return row && toMember(row);
  }

  /** Inserts or replaces the member of `member.role` (one per role). */
  put(member: Member): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO members (run_id, role, attempt, run_url, since, lease_until, targets, left_targets, wake_gates)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      member.runId,
      member.role,
      member.attempt,
      member.runUrl,
      member.since,
      member.leaseUntil,
      JSON.stringify(member.targets),
      JSON.stringify(member.left),
      JSON.stringify(member.wakeGates),
    );
  }

  remove(runId: string): void {
    this.sql.exec('DELETE FROM members WHERE run_id = ?', runId);
  }

  isEmpty(): boolean {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM members').one().n === 0;
  }

  /** The nearest lease end; null with nobody in the queue. */
  nextLeaseEnd(): number | null {
    return this.sql.exec<{ at: number | null }>('SELECT min(lease_until) AS at FROM members').one().at;
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
  };
}

function stringList(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * The SQL of GitHub's deployment protection rule in the run object (relay/run/schema.ts step 6,
 * table `protection_requests`), synchronous and with no policy of its own; relay/run/protection.ts
 * decides. It reads the run's gates to tell whether an environment's gates are final.
 */
import type { CommentGate } from './protection-comment.ts';

/**
 * A request's life: `waiting` for the target's gates, `due` (answer stored, the alarm sends it,
 * retrying: `tries`, `error`), `sent` (GitHub accepted it), `failed` (refused past the retry time).
 */
export type ProtectionState = 'waiting' | 'due' | 'sent' | 'failed';

export type ProtectionRow = {
  id: number;
  /** GitHub's X-GitHub-Delivery: a redelivery carries the same one. */
  delivery: string;
  environment: string;
  repository: string;
  callback_url: string;
  state: ProtectionState;
  /** `approved` | `rejected` once due; null while waiting. */
  answer: 'approved' | 'rejected' | null;
  comment: string | null;
  tries: number;
  error: string | null;
  next_at: number | null;
  first_try_at: number | null;
  created_at: number;
  updated_at: number;
};

/** What a send changed. */
export type ProtectionUpdate = Pick<ProtectionRow, 'state' | 'tries' | 'error' | 'next_at' | 'first_try_at'>;

/** Longest message of a gate the store reads for a comment (the comment cuts shorter). */
const COMMENT_MESSAGE_CHARS = 400;

export class ProtectionStore {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  count(): number {
    return this.sql.exec<{ count: number }>('SELECT COUNT(*) AS count FROM protection_requests').one().count;
  }

  /** The request of this delivery, or the one still open (waiting or due) for the same environment and workflow run. */
  duplicate(delivery: string, environment: string, callbackUrl: string): ProtectionRow | undefined {
    return this.sql
      .exec<ProtectionRow>(
        `SELECT * FROM protection_requests WHERE delivery = ?
           OR (environment = ? AND callback_url = ? AND state IN ('waiting', 'due'))
         ORDER BY id LIMIT 1`,
        delivery,
        environment,
        callbackUrl,
      )
      .toArray()[0];
  }

  insert(row: Omit<ProtectionRow, 'id'>): ProtectionRow {
    const columns = Object.keys(row);
    return this.sql
      .exec<ProtectionRow>(
        `INSERT INTO protection_requests (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING *`,
        ...Object.values(row),
      )
      .one();
  }

  waiting(): ProtectionRow[] {
    return this.sql.exec<ProtectionRow>("SELECT * FROM protection_requests WHERE state = 'waiting' ORDER BY id").toArray();
  }

  /** Stores the answer to send: the request becomes due now. */
  setDue(id: number, answer: 'approved' | 'rejected', comment: string, now: number): void {
    this.sql.exec(
      "UPDATE protection_requests SET state = 'due', answer = ?, comment = ?, next_at = ?, updated_at = ? WHERE id = ? AND state = 'waiting'",
      answer,
      comment,
      now,
      now,
      id,
    );
  }

  /** Requests due by `now`, oldest first. */
  dueBy(now: number): ProtectionRow[] {
    return this.sql.exec<ProtectionRow>("SELECT * FROM protection_requests WHERE state = 'due' AND next_at <= ? ORDER BY id", now).toArray();
  }

  update(id: number, update: ProtectionUpdate, now: number): void {
    const columns = Object.keys(update);
    this.sql.exec(
      `UPDATE protection_requests SET ${columns.map((column) => `${column} = ?`).join(', ')}, updated_at = ? WHERE id = ?`,
      ...Object.values(update),
      now,
      id,
    );
  }

  /** Every request, oldest first (at most MAX_PROTECTION_REQUESTS). */
  all(): ProtectionRow[] {
    return this.sql.exec<ProtectionRow>('SELECT * FROM protection_requests ORDER BY id').toArray();
  }

  /** When the next due request is to be sent; null for none. */
  nextSendAt(): number | null {
    return this.sql.exec<{ next: number | null }>("SELECT MIN(next_at) AS next FROM protection_requests WHERE state = 'due'").one().next;
  }

  /** True while a request waits or is due: the run must not be deleted. */
  open(): boolean {
    return this.sql.exec("SELECT 1 FROM protection_requests WHERE state IN ('waiting', 'due') LIMIT 1").toArray().length > 0;
  }

  lastActivity(): number | null {
    return this.sql.exec<{ last: number | null }>('SELECT MAX(updated_at) AS last FROM protection_requests').one().last;
  }

  /** Whether any request names `environment` (GitHub's environment names ignore case). */
  hasRequestFor(environment: string): boolean {
    return this.sql.exec('SELECT 1 FROM protection_requests WHERE environment = ? COLLATE NOCASE LIMIT 1', environment).toArray().length > 0;
  }

  /** The target of the run's beforeDeployment gates that `environment` names: the same name, else the same but for case; null for none. */
  targetFor(environment: string): string | null {
    const row = this.sql
      .exec<{ target: string }>(
        `SELECT target FROM gates WHERE phase = 'beforeDeployment' AND target = ? COLLATE NOCASE
         ORDER BY target = ? DESC, rowid LIMIT 1`,
        environment,
        environment,
      )
      .toArray()[0];
    return row?.target ?? null;
  }

  /** How many beforeDeployment gates of the target's highest attempt are pending. */
  pendingGates(target: string): number {
    return this.sql
      .exec<{ count: number }>(
        `SELECT COUNT(*) AS count FROM gates WHERE target = ? AND phase = 'beforeDeployment' AND state = 'pending'
           AND attempt = (SELECT MAX(attempt) FROM gates WHERE target = ? AND phase = 'beforeDeployment')`,
        target,
        target,
      )
      .one().count;
  }

  /** The beforeDeployment gates of the target's highest attempt, oldest first, messages cut. */
  latestGates(target: string): CommentGate[] {
    return this.sql
      .exec<CommentGate>(
        `SELECT kind, name, state, substr(message, 1, ?) AS message, decided_by FROM gates
         WHERE target = ? AND phase = 'beforeDeployment'
           AND attempt = (SELECT MAX(attempt) FROM gates WHERE target = ? AND phase = 'beforeDeployment')
         ORDER BY created_at, rowid`,
        COMMENT_MESSAGE_CHARS,
        target,
        target,
      )
      .toArray();
  }
}

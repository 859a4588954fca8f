/**
 * A webhook gate's heartbeatTimeout (SPEC §11, Step Functions' HeartbeatSeconds): once the action
 * reports the webhook called (POST /v1/gates/called), the external system must be heard (a progress
 * post, a bare `{"progress": true}`, its decision) at least every `heartbeat_seconds`, or the gate
 * fails. The due time lives in the gates table, so the run's one alarm (relay/run/alarm.ts) enforces
 * it after a restart and while the job is parked, exactly as it enforces deadlines.
 */
import type { GateRow } from './rows.ts';

/**
 * When a called gate with a heartbeat fails unless heard again; NULL for a gate without either.
 * Spelled as index gates_heartbeat_due spells it (relay/run/schema.ts step 9): a query that uses
 * another spelling reads every pending gate.
 */
export const HEARTBEAT_DUE = '(last_heard_at + heartbeat_seconds * 1000)';

/** The gate's heartbeat due time; null without a heartbeat or before the call. */
export function heartbeatDue(row: Pick<GateRow, 'last_heard_at' | 'heartbeat_seconds'>): number | null {
  return row.last_heard_at === null || row.heartbeat_seconds === null ? null : row.last_heard_at + row.heartbeat_seconds * 1000;
}

/** When the pending gate ends unless decided or heard: the nearer of its deadline and its heartbeat. */
export function gateDue(row: GateRow): number {
  return Math.min(row.deadline, heartbeatDue(row) ?? row.deadline);
}

/** `5 minutes`, `1 hour`, `90 seconds`: the largest whole unit, as a file's `heartbeatTimeout` reads. */
export function durationText(seconds: number): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  const [size, unit] = units.find(([size]) => seconds % size === 0) ?? [1, 'second'];
  const count = seconds / size;
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** Why a quiet gate failed: how long the silence allowed was, and when the system was last heard. */
export function quietMessage(heartbeatSeconds: number, lastHeardAt: number): string {
  return (
    `the external system went quiet: nothing heard for ${durationText(heartbeatSeconds)} (heartbeatTimeout) ` +
    `since ${new Date(lastHeardAt).toISOString()}`
  );
}

export class Heartbeats {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** The first report of the call starts the clock (called and heard now); true when this one did. */
  called(gateId: string, now: number): boolean {
    return (
      this.sql
        .exec(
          "UPDATE gates SET called_at = ?, last_heard_at = ? WHERE id = ? AND state = 'pending' AND called_at IS NULL RETURNING id",
          now,
          now,
          gateId,
        )
        .toArray().length > 0
    );
  }

  /**
   * The external system was heard. Before the call is reported there is no clock to move: the call
   * itself sets it, later than anything heard before it. The alarm is not moved: when it fires
   * early it finds nothing due and re-arms for the new due time, one wake-up instead of a storage
   * write per heartbeat. True when it moved the clock.
   */
  heard(gateId: string, now: number): boolean {
    const update = this.sql.exec(
      "UPDATE gates SET last_heard_at = ? WHERE id = ? AND state = 'pending' AND called_at IS NOT NULL AND last_heard_at < ?",
      now,
      gateId,
      now,
    );
    return update.rowsWritten > 0;
  }

  /**
   * Fails every pending gate whose heartbeat came due before its deadline (a deadline that came first
   * is a timeout, relay/run/store.ts expireDue); the gates failed, marked as ended by the relay, so a
   * late callback finds them gone (relay/run/callbacks.ts).
   */
  failQuiet(now: number): GateRow[] {
    const quiet = this.sql
      .exec<GateRow>(
        `SELECT * FROM gates WHERE state = 'pending' AND ${HEARTBEAT_DUE} <= ? AND ${HEARTBEAT_DUE} < deadline`,
        now,
      )
      .toArray();
    return quiet.flatMap((row) =>
      this.sql
        .exec<GateRow>(
          "UPDATE gates SET state = 'failed', message = ?, decided_at = ?, relay_ended = 1 WHERE id = ? AND state = 'pending' RETURNING *",
          quietMessage(row.heartbeat_seconds ?? 0, row.last_heard_at ?? now),
          now,
          row.id,
        )
        .toArray(),
    );
  }
}

/** Reads and rewrites of a run object's own tables, for the tests of relay/run/. */
import type { RegisterGate } from '../../../shared/protocol.ts';
import type { NewGate } from '../../../relay/run/results.ts';
import { expect } from 'vitest';
import { alarmOf, BASE, runInObject } from '../helpers.ts';

export type StoredGate = { state: string; message: string | null; deadline: number; decided_at: number | null };

export function storedGate(runId: string, gateId: string): Promise<StoredGate | undefined> {
  return runInObject(runId, (state) =>
    state.storage.sql
      .exec<StoredGate>('SELECT state, message, deadline, decided_at FROM gates WHERE id = ?', gateId)
      .toArray()[0],
  );
}

/** A gate id and links as the edge makes them (the tokens here are not signed: RPC tests never post to them). */
export function newGate(request: RegisterGate): NewGate {
  const gateId = crypto.randomUUID().replace(/-/g, '').slice(0, 22);
  return {
    gateId,
    callbackUri: `${BASE}/cb/unsigned-${gateId}`,
    approvalUrl: request.kind === 'approval' ? `${BASE}/approve/unsigned-${gateId}` : null,
  };
}

/** The tables of a run object, as the deletion of its storage must leave none of. */
export function tableNames(runId: string): Promise<string[]> {
  return runInObject(runId, (state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
      .toArray()
      .map((row) => row.name),
  );
}

/** Moves every activity time the run stored `ms` into the past (deadlines stay), as if it were that long ago. */
export function ageRun(runId: string, ms: number): Promise<void> {
  return runInObject(runId, (state) => {
    const sql = state.storage.sql;
    sql.exec('UPDATE gates SET created_at = created_at - ?, decided_at = decided_at - ?', ms, ms);
    sql.exec('UPDATE progress SET at = at - ?', ms);
    sql.exec('UPDATE targets SET updated_at = updated_at - ?', ms);
    sql.exec('UPDATE run_owner SET claimed_at = claimed_at - ?', ms);
    sql.exec('UPDATE journal SET at = at - ?', ms);
    sql.exec('UPDATE parks SET parked_at = parked_at - ?, updated_at = updated_at - ?', ms, ms);
    sql.exec('UPDATE dispatches SET created_at = created_at - ?, updated_at = updated_at - ?', ms, ms);
  });
}

/** The default retention (RETENTION_DAYS unset in the tests' bindings), in milliseconds. */
export const RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Asserts the run's alarm is set for its deletion: the default retention after an activity of the last few seconds. */
export async function expectDeletionAlarm(runId: string): Promise<void> {
  const alarm = await alarmOf(runId);
  const now = Date.now();
  expect(alarm).not.toBeNull();
  expect(alarm ?? 0).toBeGreaterThan(now + RETENTION_MS - 10_000);
  expect(alarm ?? Infinity).toBeLessThanOrEqual(now + RETENTION_MS);
}

/** Turns schema 10 back into 9: no sending mark on the dispatches. */
export function undoStep10(state: DurableObjectState): void {
  state.storage.sql.exec('ALTER TABLE dispatches DROP COLUMN sending_at');
  state.storage.sql.exec('UPDATE schema_version SET version = 9');
}

/** Turns schema 9 back into 8: no heartbeat index, no relay_ended. */
export function undoStep9(state: DurableObjectState): void {
  undoStep10(state);
  const sql = state.storage.sql;
  sql.exec('DROP INDEX gates_heartbeat_due');
  sql.exec('ALTER TABLE gates DROP COLUMN relay_ended');
  sql.exec('UPDATE schema_version SET version = 8');
}

/** Turns schema 8 back into 7 (no outputs, heartbeat or graph columns), as a relay before issue 13 left it. */
export function undoStep8(state: DurableObjectState): void {
  undoStep9(state);
  const sql = state.storage.sql;
  for (const column of ['outputs', 'heartbeat_seconds', 'called_at', 'last_heard_at']) sql.exec(`ALTER TABLE gates DROP COLUMN ${column}`);
  sql.exec('ALTER TABLE run_info DROP COLUMN graph');
  sql.exec('UPDATE schema_version SET version = 7');
}
